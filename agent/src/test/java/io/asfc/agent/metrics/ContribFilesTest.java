package io.asfc.agent.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.ConfigFactory;
import io.asfc.agent.Agent;
import io.asfc.agent.testing.TestAgents;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps {@code contrib/prometheus/asfc-rules.yml} and {@code contrib/grafana/asfc.json} usable:
 * both parse, have the shape Prometheus and Grafana expect, name only metrics that a running agent
 * exports, and (when {@code promtool} is on PATH, as in CI) pass {@code promtool check rules} and
 * the rules' own unit tests.
 */
class ContribFilesTest {
    private static final Path CONTRIB =
            Path.of(System.getProperty("user.dir")).resolve("../contrib").normalize();
    static final Path RULES = CONTRIB.resolve("prometheus/asfc-rules.yml");
    static final Path RULES_TEST = CONTRIB.resolve("prometheus/asfc-rules.test.yml");
    static final Path DASHBOARD = CONTRIB.resolve("grafana/asfc.json");

    /** What the issue asks the rules to catch, by alert name. */
    private static final Set<String> REQUIRED_ALERTS = Set.of(
            "AsfcNoSchedulerRunning",
            "AsfcNoActiveController",
            "AsfcNodeQuarantined",
            "AsfcSelfFenced",
            "AsfcAgentDown");
    /** Series that Prometheus makes itself for every target, not the agent. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");

    private static final Pattern PROM_DURATION = Pattern.compile("(?:(\\d+)(ms|s|m|h|d|w|y))+");
    private static final Set<String> RULE_KEYS =
            Set.of("alert", "expr", "for", "keep_firing_for", "labels", "annotations");
    private static final Set<String> PANEL_TYPES =
            Set.of("row", "stat", "timeseries", "state-timeline", "table", "gauge", "bargauge", "text");

    @TempDir
    Path dir;

    @TempDir
    static Path agentDir;

    /** The name of every sample a running agent (ACTIVE, its scheduler running) serves. */
    private static Set<String> exported;

    @BeforeAll
    static void scrapeARunningAgent() throws Exception {
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(agentDir, server.getConnectString())) {
            Agent agent = agents.start("a", server.getConnectString(), MetricsPage.HTTP);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> MetricsPage.scrape(agent).value("asfc_scheduler_running") == 1);
            exported = MetricsPage.scrape(agent).names();
        }
    }

    @Test
    void rulesHaveTheShapePrometheusLoads() throws IOException {
        JsonNode root = new YAMLMapper().readTree(RULES.toFile());
        JsonNode groups = root.path("groups");
        assertTrue(groups.isArray() && !groups.isEmpty(), "groups: a non-empty list");
        Set<String> alerts = new HashSet<>();
        for (JsonNode group : groups) {
            assertTrue(group.path("name").isTextual(), "every group has a name: " + group);
            assertTrue(group.path("rules").isArray() && !group.path("rules").isEmpty(), "every group has rules");
            for (JsonNode rule : group.path("rules")) {
                String name = rule.path("alert").asText("");
                assertTrue(name.matches("Asfc[A-Z][A-Za-z]+"), "alert names are AsfcCamelCase: " + rule);
                assertTrue(alerts.add(name), "alert names are unique: " + name);
                rule.fieldNames()
                        .forEachRemaining(key -> assertTrue(RULE_KEYS.contains(key), name + ": unknown key " + key));
                assertFalse(rule.path("expr").asText("").isBlank(), name + " has an expr");
                if (rule.has("for")) {
                    promDuration(rule.path("for").asText());
                }
                assertTrue(
                        Set.of("critical", "warning", "info")
                                .contains(rule.path("labels").path("severity").asText()),
                        name + " has labels.severity critical, warning or info");
                assertFalse(rule.path("annotations").path("summary").asText("").isBlank(), name + " has a summary");
                assertFalse(
                        rule.path("annotations").path("description").asText("").isBlank(), name + " has a description");
            }
        }
        assertTrue(alerts.containsAll(REQUIRED_ALERTS), "missing alerts: " + REQUIRED_ALERTS + " vs " + alerts);
    }

    @Test
    void noSchedulerWaitsTwiceTheDefaultPollInterval() throws IOException {
        JsonNode rule = alert("AsfcNoSchedulerRunning");
        Duration poll =
                ConfigFactory.parseResources("reference.conf").resolve().getDuration("asfc.controller.poll-interval");

        assertEquals(poll.multipliedBy(2), promDuration(rule.path("for").asText()));
    }

    @Test
    void dashboardHasTheShapeGrafanaImports() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertFalse(dashboard.path("title").asText("").isBlank(), "a title");
        assertTrue(dashboard.path("uid").asText("").matches("[a-zA-Z0-9_-]{1,40}"), "a uid Grafana accepts");
        assertTrue(dashboard.path("schemaVersion").isInt(), "a schemaVersion");
        Set<String> variables = new HashSet<>();
        dashboard
                .path("templating")
                .path("list")
                .forEach(v -> variables.add(v.path("name").asText()));
        assertTrue(variables.contains("datasource"), "a datasource variable: " + variables);

        Set<Integer> ids = new HashSet<>();
        List<String> rows = new ArrayList<>();
        JsonNode panels = dashboard.path("panels");
        assertTrue(panels.isArray() && panels.size() > 5, "panels");
        for (JsonNode panel : panels) {
            String title = panel.path("title").asText("");
            assertFalse(title.isBlank(), "every panel has a title: " + panel);
            assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique: " + title);
            assertTrue(PANEL_TYPES.contains(panel.path("type").asText()), title + ": type " + panel.path("type"));
            JsonNode pos = panel.path("gridPos");
            for (String key : List.of("h", "w", "x", "y")) {
                assertTrue(pos.path(key).isInt(), title + ": gridPos." + key);
            }
            assertTrue(pos.path("x").asInt() + pos.path("w").asInt() <= 24, title + " fits the 24-column grid");
            if (panel.path("type").asText().equals("row")) {
                rows.add(title);
                continue;
            }
            assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), title + " uses $datasource");
            JsonNode targets = panel.path("targets");
            assertTrue(targets.isArray() && !targets.isEmpty(), title + " has queries");
            Set<String> refIds = new HashSet<>();
            for (JsonNode target : targets) {
                assertTrue(refIds.add(target.path("refId").asText()), title + ": refIds are unique");
                String expr = target.path("expr").asText("");
                assertFalse(expr.isBlank(), title + ": every query has an expr");
                Matcher var = Pattern.compile("\\$(\\w+)").matcher(expr);
                while (var.find()) {
                    assertTrue(
                            var.group(1).startsWith("__") || variables.contains(var.group(1)),
                            title + ": $" + var.group(1) + " is a dashboard variable");
                }
            }
        }
        assertEquals(List.of("Roles and assignment", "Restarts and failovers", "Footprint"), rows);
    }

    /**
     * Every metric the rules and the dashboard name is on a real agent's {@code /metrics}, so that
     * neither can silently watch a series that does not exist (a renamed metric would otherwise
     * leave an alert that never fires).
     */
    @Test
    void everyMetricTheyNameIsExportedByARunningAgent() throws Exception {
        Set<String> named = new TreeSet<>();
        Map<String, Set<String>> where = new java.util.TreeMap<>();
        for (String expr : ruleExprs()) {
            PromQl.metricNames(expr)
                    .forEach(n -> where.computeIfAbsent(n, k -> new TreeSet<>()).add("rules"));
        }
        for (String expr : dashboardExprs()) {
            PromQl.metricNames(expr)
                    .forEach(n -> where.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard"));
        }
        new ObjectMapper()
                .readTree(DASHBOARD.toFile())
                .path("templating")
                .path("list")
                .forEach(v -> PromQl.metricNames(v.path("definition").asText(""))
                        .forEach(n ->
                                where.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard variables")));
        named.addAll(where.keySet());
        assertTrue(named.size() > 20, "the expressions were read: " + named);
        for (String metric : List.of(
                "asfc_role",
                "asfc_scheduler_assigned",
                "asfc_scheduler_restarts_total",
                "asfc_failovers_total",
                "process_resident_memory_bytes")) {
            assertTrue(named.contains(metric), "the dashboard shows " + metric);
        }

        Set<String> missing = new TreeSet<>(named);
        missing.removeAll(exported);
        missing.removeAll(PROMETHEUS_OWN);
        Map<String, Set<String>> unexported = new java.util.TreeMap<>(where);
        unexported.keySet().retainAll(missing);
        assertEquals(Map.of(), unexported, "named in contrib/ but not exported by an agent");
    }

    /** The README's metrics table names every asfc metric an agent serves (a histogram by its family name). */
    @Test
    void theReadmeDocumentsEveryAsfcMetric() throws IOException {
        String readme = Files.readString(CONTRIB.resolve("../README.md").normalize());
        Set<String> undocumented = new TreeSet<>();
        for (String name : exported) {
            String family = name.replaceAll("_(bucket|count|sum)$", "");
            if (name.startsWith("asfc_") && !readme.contains("`" + name) && !readme.contains("`" + family + "`")) {
                undocumented.add(name);
            }
        }
        assertEquals(Set.of(), undocumented, "asfc metrics missing from the README's table");
    }

    @Test
    void promtoolChecksTheRulesAndRunsTheirTests() throws Exception {
        Optional<Path> promtool = onPath("promtool");
        if (promtool.isEmpty() && "true".equals(System.getenv("CI"))) {
            fail("promtool is not on PATH; .ci/run installs it from Debian's prometheus package");
        }
        Assumptions.assumeTrue(promtool.isPresent(), "promtool is not on PATH; the parser tests above stand in");

        run(
                promtool.get(),
                RULES.getParent(),
                "check",
                "rules",
                RULES.getFileName().toString());
        run(
                promtool.get(),
                RULES.getParent(),
                "test",
                "rules",
                RULES_TEST.getFileName().toString());

        // The dashboard's queries, with Grafana's variables filled in, as recording rules: promtool parses each.
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        ObjectMapper json = new ObjectMapper();
        int i = 0;
        for (String expr : dashboardExprs()) {
            String filled =
                    expr.replace("$__rate_interval", "1m").replace("$job", ".*").replace("$cluster", ".*");
            rules.append("      - record: asfc:dashboard:q").append(i++).append('\n');
            rules.append("        expr: ")
                    .append(json.writeValueAsString(filled))
                    .append('\n');
        }
        Path file = Files.writeString(dir.resolve("dashboard-queries.yml"), rules);
        run(promtool.get(), dir, "check", "rules", file.getFileName().toString());
    }

    private static JsonNode alert(String name) throws IOException {
        for (JsonNode group : new YAMLMapper().readTree(RULES.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.path("alert").asText().equals(name)) {
                    return rule;
                }
            }
        }
        throw new AssertionError("no alert " + name + " in " + RULES);
    }

    private static List<String> ruleExprs() throws IOException {
        List<String> exprs = new ArrayList<>();
        for (JsonNode group : new YAMLMapper().readTree(RULES.toFile()).path("groups")) {
            group.path("rules").forEach(rule -> exprs.add(rule.path("expr").asText()));
        }
        return exprs;
    }

    /** Every panel query of the dashboard (PromQL; its variables' queries are Grafana's label_values). */
    private static List<String> dashboardExprs() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> exprs = new ArrayList<>();
        dashboard.path("panels").forEach(p -> p.path("targets")
                .forEach(t -> exprs.add(t.path("expr").asText())));
        return exprs;
    }

    private static Duration promDuration(String text) {
        Matcher whole = PROM_DURATION.matcher(text);
        assertTrue(whole.matches(), "a Prometheus duration: " + text);
        Matcher part = Pattern.compile("(\\d+)(ms|s|m|h|d|w|y)").matcher(text);
        Duration total = Duration.ZERO;
        while (part.find()) {
            long n = Long.parseLong(part.group(1));
            total = total.plus(
                    switch (part.group(2)) {
                        case "ms" -> Duration.ofMillis(n);
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        case "d" -> Duration.ofDays(n);
                        case "w" -> Duration.ofDays(7 * n);
                        default -> Duration.ofDays(365 * n);
                    });
        }
        return total;
    }

    private static Optional<Path> onPath(String command) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, command))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static void run(Path promtool, Path workDir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(promtool.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("promtool " + String.join(" ", args) + " did not finish within 60s:\n" + out);
        }
        assertEquals(0, p.exitValue(), "promtool " + String.join(" ", args) + ":\n" + out);
    }
}
