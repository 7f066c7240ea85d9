package io.asfc.agent.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Json;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real agents with {@code asfc.http} enabled on a free port, probed with java.net.http. */
class HttpEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HTTP = "\nasfc.http { enabled = true, bind = \"127.0.0.1\", port = 0 }\n";

    /** Every metric the README documents, as it appears in the text format. */
    private static final List<String> METRICS = List.of(
            "asfc_agent_info",
            "asfc_role",
            "asfc_leadership_changes_total",
            "asfc_scheduler_starts_total",
            "asfc_scheduler_restarts_total",
            "asfc_scheduler_restart_seconds_bucket",
            "asfc_scheduler_restart_seconds_count",
            "asfc_failovers_total",
            "asfc_failover_duration_seconds_bucket",
            "asfc_self_fences_total",
            "asfc_zk_session_expirations_total",
            "asfc_scheduler_running",
            "asfc_scheduler_healthy",
            "asfc_scheduler_failures",
            "asfc_scheduler_assigned",
            "asfc_scheduler_moving",
            "asfc_node_quarantined",
            "asfc_ssh_operations_total",
            "asfc_strays_stopped_total",
            "asfc_foreign_schedulers_total",
            "asfc_watchdog_device_failures_total",
            "asfc_watchdog_device_failing",
            "asfc_ssh_failures_total",
            "asfc_zookeeper_connection_state",
            "asfc_heartbeat_age_seconds",
            "asfc_loop_progress_age_seconds");

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

    @Test
    void healthIsDownWhileZooKeeperIsAwayAndUpWhenItReturns() throws Exception {
        agents.start("a", server.getConnectString(), HTTP);

        await().atMost(WAIT).until(() -> get("a", "/health").statusCode() == 200);
        HttpResponse<String> up = get("a", "/health");
        assertTrue(up.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = json(up);
        assertEquals("UP", body.get("status").asText());
        assertEquals("connected", body.get("zookeeper").asText());
        assertEquals(0, body.get("reasons").size());

        server.stop();

        await().atMost(WAIT).until(() -> get("a", "/health").statusCode() == 503);
        JsonNode down = json(get("a", "/health"));
        assertEquals("DOWN", down.get("status").asText());
        assertTrue(
                texts(down.get("reasons")).stream().anyMatch(r -> r.contains("ZooKeeper")),
                "a reason names ZooKeeper: " + down);
        assertEquals(503, get("a", "/status").statusCode(), "no cluster view without ZooKeeper");

        server.restart();

        await().atMost(WAIT).until(() -> get("a", "/health").statusCode() == 200);
        assertEquals("UP", json(get("a", "/health")).get("status").asText());
    }

    @Test
    void metricsCountRestartsAndFailovers() throws Exception {
        startWithStandIn("a");
        startWithStandIn("b");
        ProcessInfo first = awaitRunningOnlyOn("a");

        String page = get("a", "/metrics").body();
        for (String name : METRICS) {
            assertTrue(page.contains("\n" + name), name + " is exposed:\n" + page);
        }
        assertEquals(1, sample(page, "asfc_role{role=\"active\"}"));
        assertEquals(0, sample(page, "asfc_role{role=\"standby\"}"));
        assertEquals(1, sample(page, "asfc_zookeeper_connection_state{state=\"connected\"}"));
        assertEquals(0, sample(page, "asfc_ssh_failures_total{reason=\"timed_out\"}"));
        assertEquals(0, sample(page, "asfc_scheduler_restarts_total"));
        assertTrue(sample(page, "asfc_heartbeat_age_seconds") < WAIT.toSeconds(), page);
        double starts = sample(page, "asfc_scheduler_starts_total");
        assertTrue(starts >= 1, page);

        ProcessHandle.of(first.pid()).orElseThrow().destroyForcibly(); // kill -9 of the scheduler

        await().atMost(WAIT).until(() -> sample(get("a", "/metrics").body(), "asfc_scheduler_restarts_total") == 1);
        page = get("a", "/metrics").body();
        assertEquals(1, sample(page, "asfc_scheduler_restart_seconds_count"), "one restart was timed");
        assertTrue(sample(page, "asfc_scheduler_restart_seconds_sum") > 0, page);
        assertEquals(starts + 1, sample(page, "asfc_scheduler_starts_total"));

        String standby = get("b", "/metrics").body();
        assertEquals(0, sample(standby, "asfc_leadership_changes_total"));
        assertEquals(0, total(standby, "asfc_failovers_total"));

        agents.stop("a"); // graceful: b leads at once, and moves the scheduler after takeover-grace

        awaitRunningOnlyOn("b");
        await().atMost(WAIT).until(() -> total(get("b", "/metrics").body(), "asfc_failovers_total") == 1);
        standby = get("b", "/metrics").body();
        assertEquals(1, sample(standby, "asfc_leadership_changes_total"));
        assertEquals(1, sample(standby, "asfc_role{role=\"active\"}"));
        assertTrue(sample(standby, "asfc_scheduler_starts_total") >= 1);
    }

    @Test
    void statusShowsRoleEpochAssignmentAndAgents() throws Exception {
        startWithStandIn("a");
        startWithStandIn("b");
        awaitRunningOnlyOn("a");
        await().atMost(WAIT)
                .until(() -> json(get("a", "/status")).path("agents").size() == 2);

        HttpResponse<String> response = get("a", "/status");
        assertEquals(200, response.statusCode());
        JsonNode a = json(response);
        assertEquals("a", a.get("node").asText());
        assertEquals("ACTIVE", a.get("role").asText());
        assertEquals(agents.epoch(), a.get("epoch").asLong());
        assertTrue(a.get("epoch").asLong() >= 1);
        assertEquals("a", a.get("assignment").get("node").asText());
        assertEquals(agents.epoch(), a.get("assignment").get("epoch").asLong());
        assertTrue(a.get("scheduler").get("running").asBoolean(), "the local scheduler: " + a);
        assertEquals("connected", a.get("zookeeper").asText());
        assertEquals(
                Set.of("a", "b"),
                Set.copyOf(StreamSupport.stream(a.get("agents").spliterator(), false)
                        .map(n -> n.get("node").asText())
                        .toList()));
        assertTrue(a.get("error").isNull());

        JsonNode b = json(get("b", "/status"));
        assertEquals("STANDBY", b.get("role").asText());
        assertEquals("a", b.get("assignment").get("node").asText());
        assertTrue(!b.get("scheduler").get("running").asBoolean());
    }

    @Test
    void portInUseIsAClearStartupErrorBeforeJoining() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            String conf = "\nasfc.http { enabled = true, bind = \"127.0.0.1\", port = " + port + " }\n";

            HttpBindException e =
                    assertThrows(HttpBindException.class, () -> agents.start("a", server.getConnectString(), conf));

            assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
            assertTrue(e.getMessage().contains("asfc.http.port"), e.getMessage());
            assertTrue(agents.published().isEmpty(), "the agent never joined its cluster");
        }
    }

    private void startWithStandIn(String node) {
        agents.start(node, server.getConnectString(), StandIn.FAST_TIMINGS + standIn.config(node, "") + HTTP);
    }

    private ProcessInfo awaitRunningOnlyOn(String node) {
        await().atMost(WAIT)
                .until(() -> standIn.mains().keySet().equals(Set.of(node))
                        && agents.agentRecord(node)
                                .map(r -> r.scheduler().running())
                                .orElse(false));
        return standIn.mains().get(node);
    }

    private HttpResponse<String> get(String node, String path) throws Exception {
        var address = agents.agent(node).httpAddress().orElseThrow();
        URI uri = URI.create("http://127.0.0.1:" + address.getPort() + path);
        return http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    /** The sum of every sample of {@code name}, whatever its labels (e.g. failovers of every reason). */
    static double total(String page, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$")
                .matcher(page);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
            found = true;
        }
        if (!found) {
            throw new AssertionError(name + " is not in:\n" + page);
        }
        return sum;
    }

    /** The value of one sample, e.g. {@code asfc_role{role="active"}}, in the text format. */
    static double sample(String page, String series) {
        Matcher m =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(page);
        if (!m.find()) {
            throw new AssertionError(series + " is not in:\n" + page);
        }
        return Double.parseDouble(m.group(1));
    }
}
