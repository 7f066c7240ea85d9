package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.AgentRecord;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Child mode with the stand-in scheduler: each agent keeps its host matching the assignment. */
class SupervisionTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final Map<String, ZkProxy> proxies = new HashMap<>();

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
        for (ZkProxy proxy : proxies.values()) {
            proxy.close();
        }
        server.close();
    }

    @Test
    void onlyTheAssignedNodeRunsTheScheduler() throws Exception {
        startThree(Map.of());

        awaitRunningOnlyOn("a");

        await().during(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(3))
                .until(() -> standIn.mains().keySet().equals(Set.of("a")));
        assertEquals("a", agents.assignment().orElseThrow().node(), "the first of asfc.nodes");
        assertTrue(ChildRunner.recorded(dir.resolve("run/scheduler-a.session")).running());
    }

    @Test
    void killedSchedulerIsRestartedAndItsOldTreeIsStopped() throws Exception {
        startThree(Map.of());
        ProcessInfo first = awaitRunningOnlyOn("a");
        await().atMost(WAIT).until(() -> tree("a").size() == 4);
        List<ProcessInfo> oldTree = tree("a");
        assertEquals(4, oldTree.size(), "main, DagFileProcessorManager, DagFileProcessor, LocalExecutor: " + oldTree);

        ProcessHandle.of(first.pid()).orElseThrow().destroyForcibly(); // kill -9 of the main process

        await().atMost(Duration.ofSeconds(5)).until(() -> {
            ProcessInfo now = standIn.mains().get("a");
            return now != null && now.pid() != first.pid();
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> oldTree.stream().noneMatch(TreeStopper::isAlive));
        await().atMost(WAIT).until(() -> hasEvent("scheduler-died", "a")); // events are written asynchronously
        assertEquals(1, agents.agentRecord("a").orElseThrow().scheduler().failures());
    }

    @Test
    void workersThatIgnoreSigtermDoNotHoldUpTheRestartAfterTheMainIsKilled() throws Exception {
        String timeouts = "\nasfc.scheduler { stop-timeout = 30s, orphan-stop-timeout = 500ms }\n";
        agents.start(
                "a",
                server.getConnectString(),
                StandIn.FAST_TIMINGS + timeouts + standIn.config("a", "--worker-ignores-term"));
        ProcessInfo first = awaitRunningOnlyOn("a");
        await().atMost(WAIT).until(() -> tree("a").size() == 4);
        List<ProcessInfo> oldTree = tree("a");

        ProcessHandle.of(first.pid()).orElseThrow().destroyForcibly(); // kill -9: the worker is orphaned

        // Well within stop-timeout: the restart waits for the old tree, and the worker goes at SIGKILL.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            ProcessInfo now = standIn.mains().get("a");
            return now != null && now.pid() != first.pid();
        });
        assertTrue(oldTree.stream().noneMatch(TreeStopper::isAlive), "left of the old tree: " + oldTree);
    }

    @Test
    void crashLoopingNodeLosesTheAssignmentAfterMaxRestarts() throws Exception {
        startThree(Map.of("a", "--fail-at-start"));

        awaitRunningOnlyOn("b");

        assertEquals("b", agents.assignment().orElseThrow().node());
        await().atMost(WAIT).until(() -> hasEvent("node-quarantined", "a")); // a is quarantined
        await().atMost(WAIT).until(() -> hasEvent("scheduler-moved", "to b"));
        assertTrue(agents.agentRecord("a").orElseThrow().scheduler().failures() >= 3);
    }

    @Test
    void hungSchedulerIsRestartedAfterUnhealthyAfter() throws Exception {
        int port = freePort();
        String health = "\nasfc.scheduler.health { url = \"http://127.0.0.1:" + port
                + "/health\", format = status-code, interval = 200ms, timeout = 1s, unhealthy-after = 1s }\n";
        agents.start(
                "a",
                server.getConnectString(),
                StandIn.FAST_TIMINGS + standIn.config("a", "--health-port " + port) + health);
        ProcessInfo first = awaitRunningOnlyOn("a");

        standIn.tell("a", "hang");

        await().atMost(WAIT).until(() -> {
            ProcessInfo now = standIn.mains().get("a");
            return now != null && now.pid() != first.pid();
        });
        standIn.tell("a", "ok");
        await().atMost(WAIT).until(() -> hasEvent("scheduler-unhealthy", "a"));
        await().atMost(WAIT).until(() -> hasEvent("scheduler-unhealthy-restart", "a"));
        await().atMost(WAIT)
                .until(() -> agents.agentRecord("a").orElseThrow().scheduler().healthy());
    }

    @Test
    void cutOffNodeSelfFencesAndDoesNotStartAgainOnAStaleAssignment() throws Exception {
        startThree(Map.of());
        awaitRunningOnlyOn("a");
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            proxies.get("a").cut(); // a loses ZooKeeper, but its scheduler still runs

            // S4: a stops its own scheduler after self-fence-after, before its session expires...
            await().atMost(Duration.ofSeconds(8)).until(() -> !standIn.mains().containsKey("a"));
            // ...and only then, after the session expired and takeover-grace, another node runs it.
            awaitRunningOnlyOn("b");
            proxies.get("a").restore();

            await().atMost(WAIT).until(() -> hasEvent("self-fenced", "a"));
            // S3: a is back with a new session, and the assignment names b: a must not start.
            await().during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(4))
                    .until(() -> standIn.mains().keySet().equals(Set.of("b")));
            assertEquals(0, observer.overlapping(), observer.describe());
            assertTrue(observer.samples() > 100, observer.describe());
        }
    }

    private void startThree(Map<String, String> args) throws Exception {
        for (String node : List.of("a", "b", "c")) {
            ZkProxy proxy = new ZkProxy(server.getPort());
            proxies.put(node, proxy);
            agents.start(
                    node,
                    proxy.connectString(),
                    StandIn.FAST_TIMINGS + standIn.config(node, args.getOrDefault(node, "")));
        }
    }

    private ProcessInfo awaitRunningOnlyOn(String node) {
        await().atMost(WAIT).until(() -> {
            AgentRecord record = agents.agentRecord(node).orElse(null);
            return standIn.mains().keySet().equals(Set.of(node))
                    && record != null
                    && record.scheduler().running();
        });
        ProcessInfo main = standIn.mains().get(node);
        assertNotEquals(null, main);
        return main;
    }

    private List<ProcessInfo> tree(String node) {
        return standIn.all().stream()
                .filter(p -> p.sid() == standIn.mains().get(node).sid())
                .toList();
    }

    private boolean hasEvent(String type, String detailPart) {
        return new EventLog(agents.observer(), agents.paths(), "observer", 1000, Clock.systemUTC())
                .recent(1000).stream()
                        .anyMatch(e -> e.event().type().equals(type)
                                && e.event().detail().contains(detailPart));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
