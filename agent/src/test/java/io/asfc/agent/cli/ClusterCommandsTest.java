package io.asfc.agent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.zk.Json;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.stream.Stream;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterCommandsTest {
    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private Path conf;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        conf = dir.resolve("cli.conf");
        Files.writeString(conf, "asfc { node.id = cli, zookeeper.connect = \"" + server.getConnectString() + "\" }\n");
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        server.close();
    }

    @Test
    void metadataJsonAgreesWithTheZnodes() throws Exception {
        agents.start("a");
        agents.start("b");
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        agents.soleActive().isPresent() && agents.published().size() == 2);

        CliRun run = CliRun.of("--conf", conf.toString(), "metadata", "--json");

        assertEquals(0, run.exitCode(), run::toString);
        JsonNode json = Json.mapper().readTree(run.out());
        assertEquals(
                agents.active().orElseThrow().node(),
                json.path("active").path("node").asText());
        assertEquals(agents.epoch(), json.path("epoch").asLong());
        assertEquals(2, json.path("agents").size());
        assertEquals("/airflow/failover/default", json.path("path").asText());
        assertTrue(json.path("now").isTextual());
    }

    @Test
    void metadataTextShowsTheActiveControllerAndAgentTable() throws Exception {
        agents.start("a");
        await().atMost(Duration.ofSeconds(10)).until(() -> agents.soleActive().isPresent());
        agents.observer()
                .create()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(agents.paths().agent("x"), "garbage".getBytes());
        // the first assignment waits for the leave-rule on b, c and d (no agent there: takeover-grace)
        await().atMost(Duration.ofSeconds(20))
                .until(() -> agents.assignment().map(x -> "a".equals(x.node())).orElse(false));

        CliRun run = CliRun.of("--conf", conf.toString(), "metadata");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("active controller    a (epoch "), run::toString);
        assertTrue(run.out().contains("scheduler            a (epoch "), run::toString);
        assertTrue(run.out().matches("(?s).*\\na\\s+\\S+\\s+\\d+\\s+ACTIVE\\s+.*"), run::toString);
        assertTrue(run.out().contains("(malformed znode)"), run::toString);
    }

    @Test
    void metadataShowsTheLastFailoverOfAnyCauseNotOnlyAManualOne() throws Exception {
        EventLog log = new EventLog(agents.observer(), agents.paths(), "b", 1000, Clock.systemUTC());
        log.start();
        log.record("scheduler-moved", "from a to b: failover requested by an operator");
        log.record("failover", "from b to c: the agent of b was lost");
        log.record("agent-started", "b (asfc test)");
        log.close(); // flushes

        CliRun run = CliRun.of("--conf", conf.toString(), "metadata");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(
                run.out()
                        .matches(
                                "(?s).*\\nlast failover +\\S+ failover \\(b\\): from b to c: the agent of b was lost\\n.*"),
                run::toString);
    }

    @Test
    void eventsListsTheNewestFirstWithLimit() throws Exception {
        agents.start("a");
        await().atMost(Duration.ofSeconds(10)).until(() -> agents.soleActive().isPresent());
        agents.stop("a");

        CliRun json = CliRun.of("--conf", conf.toString(), "events", "--limit", "2", "--json");
        CliRun text = CliRun.of("--conf", conf.toString(), "events");

        assertEquals(0, json.exitCode(), json::toString);
        JsonNode events = Json.mapper().readTree(json.out());
        assertEquals(2, events.size());
        assertEquals("agent-stopped", events.get(0).path("event").path("type").asText());
        assertTrue(
                events.get(0).path("seq").asLong() > events.get(1).path("seq").asLong());
        assertTrue(text.out().contains("leader-elected"), text::toString);
        assertTrue(text.out().contains("agent-started"), text::toString);
    }

    @Test
    void clearMetadataRefusesWhileAgentsAreLiveUnlessForced() throws Exception {
        agents.start("a");
        await().atMost(Duration.ofSeconds(10)).until(() -> agents.soleActive().isPresent());

        CliRun refused = CliRun.of("--conf", conf.toString(), "clear-metadata", "--yes");
        CliRun forced = CliRun.of("--conf", conf.toString(), "clear_metadata", "--yes", "--force");

        assertEquals(1, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("1 agent(s) are live (a)"), refused::toString);
        assertEquals(0, forced.exitCode(), forced::toString);
        // Live agents use the epoch, the latch, active, agents and the assignment: --force keeps them
        // (the epoch never restarts, the assignment never empties under a running scheduler).
        assertTrue(forced.out().contains("kept"), forced::toString);
        assertTrue(agents.observer().checkExists().forPath(agents.paths().epoch()) != null, "epoch kept");
        assertTrue(agents.observer().checkExists().forPath(agents.paths().events()) == null, "events cleared");
        assertTrue(agents.soleActive().isPresent(), "the ACTIVE is untouched");
    }

    @Test
    void clearMetadataOfAStoppedClusterRemovesTheSubtree() throws Exception {
        agents.start("a");
        await().atMost(Duration.ofSeconds(10)).until(() -> agents.soleActive().isPresent());
        agents.stop("a");

        CliRun run = CliRun.of("--conf", conf.toString(), "clear-metadata", "--yes");

        assertEquals(0, run.exitCode(), run::toString);
        assertNull(agents.observer().checkExists().forPath(agents.paths().cluster()));
    }

    @Test
    void unreachableZooKeeperExits69WithoutAStackTrace() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Path unreachable = dir.resolve("unreachable.conf");
        Files.writeString(
                unreachable,
                "asfc.zookeeper { connect = \"127.0.0.1:" + closedPort + "\", connection-timeout = 1s }\n");

        for (String[] args : new String[][] {{"metadata"}, {"events"}, {"clear-metadata", "--yes"}}) {
            CliRun run = CliRun.of(Stream.concat(Stream.of("--conf", unreachable.toString()), Stream.of(args))
                    .toArray(String[]::new));

            assertEquals(69, run.exitCode(), run::toString);
            assertTrue(run.err().contains("cannot reach ZooKeeper at 127.0.0.1:" + closedPort), run::toString);
            assertFalse(run.err().contains("Exception"), run::toString);
        }
    }
}
