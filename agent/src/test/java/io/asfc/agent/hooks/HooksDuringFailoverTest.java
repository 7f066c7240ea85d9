package io.asfc.agent.hooks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.Agent;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, "Hooks" and "Webhook", with real ZooKeeper and real in-process agents running the
 * stand-in scheduler: what a hook and a webhook receive for a real failover, and that a hook that
 * never ends, a failing hook or a receiver that never answers holds up nothing.
 */
class HooksDuringFailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HTTP = "\nasfc.http { enabled = true, bind = \"127.0.0.1\", port = 0 }\n";
    private static final HttpClient SCRAPER =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private Receiver receiver;

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
        if (receiver != null) {
            receiver.close();
        }
        server.close();
    }

    /** One line per event: ASFC_EVENT|ASFC_NODE|ASFC_CLUSTER|ASFC_EPOCH|ASFC_REASON. */
    private String recordingHook(Path file) {
        return "printf '%s|%s|%s|%s|%s\\n' \"$ASFC_EVENT\" \"$ASFC_NODE\" \"$ASFC_CLUSTER\" \"$ASFC_EPOCH\""
                + " \"$ASFC_REASON\" >> '" + file + "'";
    }

    @Test
    void theHookAndTheWebhookReceiveAFailoverWithEveryVariable() throws Exception {
        receiver = Receiver.answering(n -> 200);
        String hooks =
                """
                asfc.hooks {
                  on-event = \"\"\"%s\"\"\"
                  webhook { url = "%s", headers { Authorization = "Bearer s3cret" } }
                }
                """;
        agents.start(
                "a",
                server.getConnectString(),
                config("a") + hooks.formatted(recordingHook(dir.resolve("a.events")), receiver.url()));
        await().atMost(WAIT).until(() -> running("a"));
        agents.start(
                "b",
                server.getConnectString(),
                config("b") + hooks.formatted(recordingHook(dir.resolve("b.events")), receiver.url()));
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());

        agents.client("a").close(); // a's agent is gone: b takes leadership and the scheduler over
        await().atMost(WAIT).until(() -> running("b"));

        Path events = dir.resolve("b.events");
        await().atMost(WAIT).until(() -> line(events, "failover").isPresent());
        String[] failover = line(events, "failover").orElseThrow().split("\\|", 5);
        assertEquals("b", failover[1]);
        assertEquals("default", failover[2]);
        assertEquals(Long.toString(agents.epoch()), failover[3]);
        assertTrue(failover[4].startsWith("from a to b"), failover[4]);
        assertTrue(line(events, "leader-elected").isPresent(), "b's hook saw it take leadership");
        assertTrue(line(dir.resolve("a.events"), "scheduler-started").isPresent(), "a's hook saw its own start");

        await().atMost(WAIT).until(() -> webhookBody("failover").isPresent());
        JsonNode body = webhookBody("failover").orElseThrow();
        assertEquals(1, body.get("schemaVersion").asInt());
        assertEquals("b", body.get("node").asText());
        assertEquals("default", body.get("cluster").asText());
        assertEquals(agents.epoch(), body.get("epoch").asLong());
        assertTrue(body.get("reason").asText().startsWith("from a to b"), body.toString());
        assertTrue(receiver.requests().stream().allMatch(r -> "Bearer s3cret".equals(r.header("Authorization"))));
        // the alert that goes with the move, about the node it left
        await().atMost(WAIT).until(() -> alertBody("scheduler-moved", "a").isPresent());
        assertTrue(alertBody("scheduler-moved", "a")
                .orElseThrow()
                .get("reason")
                .asText()
                .contains("from a"));
    }

    @Test
    void aHookThatNeverEndsAndAReceiverThatNeverAnswersDelayNoFailoverAndTheirQueuesAreBounded() throws Exception {
        receiver = Receiver.answering(n -> 0);
        Path pids = dir.resolve("pids");
        Path release = dir.resolve("release");
        String hooks =
                """
                asfc.hooks {
                  on-event = "echo $$ >> '%s'; while [ ! -e '%s' ]; do sleep 0.1; done"
                  timeout = 10m
                  queue-size = 1
                  webhook { url = "%s", timeout = 10m, queue-size = 1 }
                }
                """
                        .formatted(pids, release, receiver.url());
        Agent a = agents.start("a", server.getConnectString(), config("a") + HTTP + hooks);
        await().atMost(WAIT).until(() -> running("a"));
        Agent b = agents.start("b", server.getConnectString(), config("b") + HTTP + hooks);
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());

        agents.client("a").close();

        // b took the scheduler over while every hook run and every POST still hangs: nobody waited.
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "b"));
        List<Long> started =
                Files.readAllLines(pids).stream().map(Long::parseLong).toList();
        assertEquals(2, started.size(), "one run per agent, each hung on its first event: " + started);
        assertTrue(started.stream().allMatch(HooksDuringFailoverTest::alive), "the hook runs still hang");
        for (Agent agent : List.of(a, b)) {
            assertEquals(0, metric(agent, "asfc_hook_runs_total{result=\"ok\"}"));
            assertEquals(0, metric(agent, "asfc_hook_runs_total{result=\"timeout\"}"));
            assertEquals(0, metric(agent, "asfc_webhook_deliveries_total{result=\"ok\"}"));
            assertEquals(0, metric(agent, "asfc_webhook_deliveries_total{result=\"failed\"}"));
        }
        // more events came than the queues hold: the oldest waiting ones were dropped and counted
        assertTrue(metric(b, "asfc_hook_events_dropped_total{sink=\"command\"}") >= 1);
        assertTrue(metric(b, "asfc_hook_events_dropped_total{sink=\"webhook\"}") >= 1);

        // Closing an agent does not leave its hook behind.
        agents.stop("b");
        await().atMost(WAIT).until(() -> !alive(started.get(1)) || !alive(started.get(0)));
    }

    @Test
    void aHookThatOutlivesItsTimeoutIsKilledWithItsTree() throws Exception {
        Path pids = dir.resolve("pids");
        Agent a = agents.start(
                "a",
                server.getConnectString(),
                config("a") + HTTP + "asfc.hooks { on-event = \"echo $$ >> '" + pids
                        + "'; exec sleep 600\", timeout = 1s }\n");

        await().atMost(WAIT).until(() -> running("a"));
        await().atMost(WAIT).until(() -> metric(a, "asfc_hook_runs_total{result=\"timeout\"}") >= 2);
        List<Long> started =
                Files.readAllLines(pids).stream().map(Long::parseLong).toList();
        await().atMost(WAIT).until(() -> started.stream().noneMatch(HooksDuringFailoverTest::alive));
    }

    @Test
    void aFailingHookIsLoggedAndCountedAndNeverRetried() throws Exception {
        Path ran = dir.resolve("ran");
        Agent a = agents.start(
                "a",
                server.getConnectString(),
                config("a") + HTTP + "asfc.hooks.on-event = \"echo \\\"$ASFC_EVENT\\\" >> '" + ran + "'; exit 3\"\n");

        await().atMost(WAIT).until(() -> running("a"));
        await().atMost(WAIT).until(() -> metric(a, "asfc_hook_runs_total{result=\"failed\"}") >= 1);
        await().atMost(WAIT).until(() -> count(ran, "leader-elected") == 1);
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> count(ran, "leader-elected") == 1);
        assertEquals(0, metric(a, "asfc_hook_runs_total{result=\"ok\"}"));
    }

    private boolean running(String node) throws Exception {
        return agents.agentRecord(node).map(r -> r.scheduler().running()).orElse(false);
    }

    private String config(String node) {
        return StandIn.FAST_TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b]\n";
    }

    private static Optional<String> line(Path file, String event) throws Exception {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Files.readAllLines(file).stream()
                .filter(l -> l.startsWith(event + "|"))
                .findFirst();
    }

    private static long count(Path file, String line) throws Exception {
        return Files.exists(file)
                ? Files.readAllLines(file).stream().filter(line::equals).count()
                : 0;
    }

    private Optional<JsonNode> webhookBody(String event) throws Exception {
        for (Receiver.Request r : receiver.requests()) {
            JsonNode body = Json.mapper().readTree(r.body());
            if (event.equals(body.get("event").asText())) {
                return Optional.of(body);
            }
        }
        return Optional.empty();
    }

    private Optional<JsonNode> alertBody(String kind, String node) throws Exception {
        for (Receiver.Request r : receiver.requests()) {
            JsonNode body = Json.mapper().readTree(r.body());
            JsonNode alert = body.path("alert");
            if (kind.equals(alert.path("kind").asText())
                    && node.equals(alert.path("node").asText())) {
                return Optional.of(body);
            }
        }
        return Optional.empty();
    }

    private static double metric(Agent agent, String series) throws Exception {
        int port = agent.httpAddress().orElseThrow().getPort();
        HttpResponse<String> page = SCRAPER.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return MetricsText.value(page.body(), series);
    }

    private static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.io.IOException e) {
            return false; // gone
        }
    }
}
