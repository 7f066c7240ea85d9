package io.asfc.agent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.Agent;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, "Recovery" and "Maintenance", with real ZooKeeper and three real in-process agents
 * running the stand-in scheduler: a quarantine that heals after a fault shared by every node,
 * unquarantine and reset-failures, cordon, uncordon and drain.
 */
class RecoveryAndMaintenanceTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> NODES = List.of("a", "b", "c");

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private Path conf;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
        conf = dir.resolve("cli.conf");
        Files.writeString(
                conf,
                "asfc { node.id = a, nodes = [a, b, c, d], zookeeper.connect = \"" + server.getConnectString()
                        + "\" }\n");
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

    /**
     * The issue's Done-means: every node's start fails (as with the metadata database down), every
     * node is quarantined, and quarantines are lifted and given again while the fault lasts; once
     * it ends a scheduler runs again, without any agent restarted.
     */
    @Test
    void aFaultSharedByEveryNodeHealsByItselfOnceItEndsWithNoAgentRestarted() throws Exception {
        for (String node : NODES) {
            standIn.tell(node, "crash");
        }
        startAgents("asfc.controller { quarantine-backoff = 10s, max-quarantine-backoff = 40s }\n");
        Map<String, Agent> before = new HashMap<>();
        Map<String, Instant> startedAt = new HashMap<>();
        await().atMost(WAIT)
                .until(() -> NODES.stream().allMatch(n -> published(n).isPresent()));
        for (String node : NODES) {
            before.put(node, agents.agent(node));
            startedAt.put(node, agents.agentRecord(node).orElseThrow().startedAt());
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> NODES.stream().allMatch(n -> quarantines(n) >= 1));
        // while the fault lasts, a lifted node fails its one attempt and is quarantined again, for longer
        await().atMost(Duration.ofSeconds(60)).until(() -> NODES.stream().anyMatch(n -> quarantines(n) >= 2));
        NodeRecord again = NODES.stream()
                .map(this::record)
                .flatMap(Optional::stream)
                .filter(r -> r.quarantines() >= 2)
                .findFirst()
                .orElseThrow();
        assertEquals(Duration.ofSeconds(20).toMillis(), again.backoffMillis(), again::toString);
        assertTrue(standIn.mains().isEmpty(), "nothing runs while the fault lasts");

        for (String node : NODES) {
            standIn.tell(node, "ok"); // the fault ends
        }
        long ended = System.nanoTime();

        await().atMost(Duration.ofSeconds(90)).until(() -> {
            Map<String, ProcessInfo> mains = standIn.mains();
            return mains.size() == 1
                    && agents.runsOnlyOn(standIn, mains.keySet().iterator().next());
        });
        System.out.printf(
                "shared fault healed: a scheduler runs %d ms after the fault ended (backoff 10s, max 40s)%n",
                (System.nanoTime() - ended) / 1_000_000);
        for (String node : NODES) {
            assertSame(before.get(node), agents.agent(node), node + "'s agent is the same");
            assertEquals(
                    startedAt.get(node),
                    agents.agentRecord(node).orElseThrow().startedAt(),
                    node + "'s agent was not restarted");
        }
        String events = CliRun.of("--conf", conf.toString(), "events").out();
        assertTrue(events.contains("node-eligible-again"), events);
        assertTrue(events.contains("node-quarantined"), events);
    }

    @Test
    void unquarantineAndResetFailuresActAtOnceAndRecordWho() throws Exception {
        startAgents("asfc.controller { quarantine-backoff = 10m, max-quarantine-backoff = 10m }\n");
        awaitRunningOn("a");
        standIn.tell("a", "crash");
        await().atMost(WAIT)
                .until(() -> record("a").map(NodeRecord::quarantined).orElse(false));
        awaitRunningOn("b");
        standIn.tell("a", "ok");
        assertTrue(CliRun.of("--conf", conf.toString(), "metadata").out().contains("quarantined"));

        CliRun unquarantine = CliRun.of("--conf", conf.toString(), "unquarantine", "a");

        assertEquals(0, unquarantine.exitCode(), unquarantine::toString);
        assertTrue(unquarantine.out().contains("quarantine is lifted"), unquarantine::toString);
        NodeRecord lifted = record("a").orElseThrow();
        assertFalse(lifted.quarantined(), lifted::toString);
        assertTrue(lifted.onTrial(), lifted::toString);
        // eligible again at once, although its agent still reports the failures that quarantined it
        assertTrue(agents.agentRecord("a").orElseThrow().scheduler().failures() >= 3);
        CliRun failover = CliRun.of("--conf", conf.toString(), "failover", "--to", "a");
        assertEquals(0, failover.exitCode(), failover::toString);
        awaitRunningOn("a");

        CliRun reset = CliRun.of("--conf", conf.toString(), "reset-failures");

        assertEquals(0, reset.exitCode(), reset::toString);
        assertTrue(reset.out().contains("done:"), reset::toString);
        String who = System.getProperty("user.name") + "@";
        String events = CliRun.of("--conf", conf.toString(), "events").out();
        assertTrue(events.contains("node-unquarantined"), events);
        assertTrue(events.contains("failures-reset"), events);
        assertTrue(events.contains("a by " + who), events);
        CliRun nothing = CliRun.of("--conf", conf.toString(), "unquarantine", "b");
        assertEquals(0, nothing.exitCode(), nothing::toString);
        assertTrue(nothing.out().contains("not quarantined"), nothing::toString);
    }

    @Test
    void aCordonedNodeIsNeverChosenAndFailoverToItIsRefused() throws Exception {
        startAgents("");
        awaitRunningOn("a");

        CliRun cordon = CliRun.of("--conf", conf.toString(), "cordon", "b");

        assertEquals(0, cordon.exitCode(), cordon::toString);
        assertTrue(record("b").map(NodeRecord::hasCordon).orElse(false));
        String metadata = CliRun.of("--conf", conf.toString(), "metadata").out();
        assertTrue(metadata.contains("cordoned") && metadata.contains("b: never chosen"), metadata);
        String json = CliRun.of("--conf", conf.toString(), "metadata", "--json").out();
        assertTrue(json.contains("\"cordoned\" : true"), json);
        CliRun failover = CliRun.of("--conf", conf.toString(), "failover", "--to", "b");
        assertEquals(1, failover.exitCode(), failover::toString);
        assertTrue(failover.err().contains("'b' is cordoned"), failover::toString);
        assertEquals("a", agents.assignment().orElseThrow().node());

        agents.stop("a"); // the holder's agent goes: the takeover skips cordoned b

        awaitRunningOn("c");
        CliRun uncordon = CliRun.of("--conf", conf.toString(), "uncordon", "b");
        assertEquals(0, uncordon.exitCode(), uncordon::toString);
        assertFalse(record("b").isPresent(), "a cordon-only record goes with the cordon");
        assertFalse(CliRun.of("--conf", conf.toString(), "metadata").out().contains("b: never chosen"));
        CliRun back = CliRun.of("--conf", conf.toString(), "failover", "--to", "b");
        assertEquals(0, back.exitCode(), back::toString);
        awaitRunningOn("b");
    }

    @Test
    void drainMovesTheSchedulerOffTheNodeWithoutOverlapAndKeepsItCordoned() throws Exception {
        startAgents("");
        awaitRunningOn("a");

        CliRun drain;
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            drain = CliRun.of("--conf", conf.toString(), "drain", "a", "--timeout", "60s");
            assertEquals(0, observer.overlapping(), observer.describe());
        }

        assertEquals(0, drain.exitCode(), drain::toString);
        assertTrue(drain.out().contains("the scheduler runs on b"), drain::toString);
        awaitRunningOn("b");
        assertTrue(record("a").map(NodeRecord::hasCordon).orElse(false), "a stays cordoned");
        String events = CliRun.of("--conf", conf.toString(), "events").out();
        assertTrue(events.contains("node-cordoned"), events);
        assertTrue(events.contains("drain of a by"), events);

        CliRun notThere = CliRun.of("--conf", conf.toString(), "drain", "c");
        assertEquals(0, notThere.exitCode(), notThere::toString);
        assertTrue(notThere.out().contains("runs on b"), notThere::toString);
        assertEquals("b", agents.assignment().orElseThrow().node(), "draining c moved nothing");

        // a and c cordoned: nowhere to go, so the drain of b is refused and changes nothing
        CliRun refused = CliRun.of("--conf", conf.toString(), "drain", "b", "--no-wait");
        assertEquals(1, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("no other node is eligible"), refused::toString);
        assertFalse(record("b").map(NodeRecord::hasCordon).orElse(false), "a refused drain cordons nothing");
        awaitRunningOn("b");
    }

    @Test
    void nodeCommandsExit69WithoutZooKeeperAnd1ForAnUnknownNode() throws Exception {
        Path down = dir.resolve("down.conf");
        Files.writeString(
                down,
                "asfc { node.id = a, nodes = [a, b], zookeeper { connect = \"127.0.0.1:1\","
                        + " connection-timeout = 1s } }\n");

        CliRun noZk = CliRun.of("--conf", down.toString(), "drain", "a");
        CliRun unknown = CliRun.of("--conf", conf.toString(), "cordon", "zz");

        assertEquals(69, noZk.exitCode(), noZk::toString);
        assertEquals(1, unknown.exitCode(), unknown::toString);
        assertTrue(unknown.err().contains("unknown node 'zz'"), unknown::toString);
    }

    @Test
    void everyNewCommandHasCompleteHelp() {
        for (String command : List.of("cordon", "uncordon", "drain", "unquarantine", "reset-failures")) {
            CliRun help = CliRun.of(command, "--help");
            assertEquals(0, help.exitCode(), help::toString);
            assertTrue(help.out().contains("Exits 0"), command + ": " + help);
            assertTrue(help.out().contains("69"), command + ": " + help);
        }
        String drain = CliRun.of("drain", "--help").out();
        assertTrue(drain.contains("--no-wait") && drain.contains("--timeout"), drain);
    }

    private void startAgents(String extra) {
        for (String node : NODES) {
            agents.start(node, server.getConnectString(), StandIn.FAST_TIMINGS + standIn.config(node, "") + extra);
        }
    }

    private Optional<AgentRecord> published(String node) {
        try {
            return agents.agentRecord(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private int quarantines(String node) {
        return record(node).map(r -> r.quarantined() ? r.quarantines() : 0).orElse(0);
    }

    private Optional<NodeRecord> record(String node) {
        try {
            byte[] data = agents.observer().getData().forPath(agents.paths().node(node));
            return Json.decode(agents.paths().node(node), data, NodeRecord.class);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitRunningOn(String node) {
        await().atMost(WAIT)
                .until(() -> standIn.mains().keySet().equals(Set.of(node))
                        && agents.agentRecord(node)
                                .map(AgentRecord::scheduler)
                                .map(AgentRecord.SchedulerState::running)
                                .orElse(false));
        assertNotNull(standIn.mains().get(node));
    }
}
