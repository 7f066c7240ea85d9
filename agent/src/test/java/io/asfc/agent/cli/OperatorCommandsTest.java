package io.asfc.agent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ActiveRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** failover, pause and resume against three agents running the stand-in scheduler. */
class OperatorCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

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
        for (String node : List.of("a", "b", "c")) {
            agents.start(node, server.getConnectString(), StandIn.FAST_TIMINGS + standIn.config(node, ""));
        }
        awaitRunningOn("a");
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

    @Test
    void failoverToMovesTheSchedulerWithoutOverlapAndStopsTheWholeOldTree() throws Exception {
        await().atMost(WAIT).until(() -> standIn.all().size() == 4);
        List<ProcessInfo> oldTree = standIn.all();
        assertEquals(4, oldTree.size(), oldTree::toString);

        CliRun run;
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            run = CliRun.of("--conf", conf.toString(), "failover", "--to", "b");
            awaitRunningOn("b");
            assertEquals(0, observer.overlapping(), observer.describe());
        }

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("the scheduler runs on b"), run::toString);
        assertTrue(oldTree.stream().noneMatch(TreeStopper::isAlive), "no process of a's tree is left");
        assertEquals("b", agents.assignment().orElseThrow().node());
    }

    @Test
    void failoverRefusesUnknownAndIneligibleTargets() {
        CliRun unknown = CliRun.of("--conf", conf.toString(), "failover", "--to", "zz");
        CliRun noAgent = CliRun.of("--conf", conf.toString(), "failover", "--to", "d");
        CliRun same = CliRun.of("--conf", conf.toString(), "failover", "--to", "a");

        assertEquals(1, unknown.exitCode(), unknown::toString);
        assertTrue(unknown.err().contains("unknown node 'zz'"), unknown::toString);
        assertEquals(1, noAgent.exitCode(), noAgent::toString);
        assertTrue(noAgent.err().contains("'d' has no live agent"), noAgent::toString);
        assertEquals(1, same.exitCode(), same::toString);
        assertTrue(same.err().contains("already assigned to a"), same::toString);
    }

    @Test
    void controllerFailoverDoesNotRestartTheScheduler() throws Exception {
        String leader = agents.active().map(ActiveRecord::node).orElseThrow();
        String target = leader.equals("b") ? "c" : "b"; // the scheduler must run away from the leader
        assertEquals(
                0,
                CliRun.of("--conf", conf.toString(), "failover", "--to", target).exitCode());
        ProcessInfo running = awaitRunningOn(target);
        long epoch = agents.epoch();

        agents.stop(leader);

        await().atMost(WAIT)
                .until(() -> agents.epoch() > epoch && agents.soleActive().isPresent());
        await().atMost(WAIT).until(() -> agents.assignment().orElseThrow().epoch() == agents.epoch());
        await().during(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(3))
                .until(() -> sameProcess(running, standIn.mains().get(target)));
        assertEquals(target, agents.assignment().orElseThrow().node(), "the new leader kept the assignment");
        assertEquals(0, agents.agentRecord(target).orElseThrow().scheduler().failures());
    }

    @Test
    void pauseStopsEveryActionUntilResume() throws Exception {
        ProcessInfo running = standIn.mains().get("a");

        CliRun pause = CliRun.of("--conf", conf.toString(), "pause");
        ProcessHandle.of(running.pid()).orElseThrow().destroyForcibly();

        assertEquals(0, pause.exitCode(), pause::toString);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> standIn.mains()
                .isEmpty());
        assertTrue(CliRun.of("--conf", conf.toString(), "metadata").out().contains("YES"));

        CliRun resume = CliRun.of("--conf", conf.toString(), "resume");

        assertEquals(0, resume.exitCode(), resume::toString);
        awaitRunningOn("a");
    }

    /**
     * Review finding 17c: a request no controller took within its time to live is never acted on
     * later. While paused the leader acts on nothing, like a cluster without a leader.
     */
    @Test
    void anExpiredRequestIsAnsweredButNeverActedOn() throws Exception {
        ProcessInfo running = standIn.mains().get("a");
        assertEquals(0, CliRun.of("--conf", conf.toString(), "pause").exitCode());
        // What `failover --to b --no-wait --ttl 1` files (raw JSON, so older agents read it as well).
        String request = "{\"paused\":true,\"failoverTo\":\"b\",\"requestId\":\"r-1\",\"requestedAt\":\""
                + java.time.Instant.now() + "\",\"ttlMillis\":1000,\"result\":null,\"resultAt\":null}";
        agents.observer().setData().forPath(agents.paths().control(), request.getBytes(StandardCharsets.UTF_8));
        Thread.sleep(2_000); // the request expires while nobody acts

        assertEquals(0, CliRun.of("--conf", conf.toString(), "resume").exitCode());

        await().atMost(WAIT).until(() -> agents.control().map(c -> c.answered()).orElse(false));
        assertTrue(agents.control().orElseThrow().result().startsWith("expired"), agents.control()::toString);
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(5))
                .until(() -> sameProcess(running, standIn.mains().get("a")));
        assertEquals("a", agents.assignment().orElseThrow().node());
    }

    @Test
    void aRequestNoControllerTookIsWithdrawnAndReportedFailed() throws Exception {
        ProcessInfo running = standIn.mains().get("a");
        assertEquals(0, CliRun.of("--conf", conf.toString(), "pause").exitCode());

        CliRun failover =
                CliRun.of("--conf", conf.toString(), "failover", "--to", "b", "--ttl", "1", "--timeout", "10");

        assertEquals(1, failover.exitCode(), failover::toString);
        assertTrue(failover.err().contains("withdrawn"), failover::toString);
        assertEquals(0, CliRun.of("--conf", conf.toString(), "resume").exitCode());
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(5))
                .until(() -> sameProcess(running, standIn.mains().get("a")));
        assertEquals("a", agents.assignment().orElseThrow().node(), "reported failed, so never acted on");
    }

    private static boolean sameProcess(ProcessInfo a, ProcessInfo b) {
        return b != null && a.pid() == b.pid() && a.startTicks() == b.startTicks();
    }

    private ProcessInfo awaitRunningOn(String node) {
        await().atMost(WAIT)
                .until(() -> standIn.mains().keySet().equals(Set.of(node))
                        && agents.agentRecord(node)
                                .map(r -> r.scheduler().running())
                                .orElse(false));
        return standIn.mains().get(node);
    }
}
