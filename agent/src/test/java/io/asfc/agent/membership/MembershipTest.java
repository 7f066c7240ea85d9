package io.asfc.agent.membership;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.net.Hostnames;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Json;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembershipTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        server.close();
    }

    @Test
    void secondAgentWithALiveNodeIdIsRefused() throws Exception {
        agents.start("a");

        DuplicateNodeIdException e = assertThrows(DuplicateNodeIdException.class, () -> agents.start("a"));

        assertTrue(e.getMessage().contains("node id 'a' is already used by a live agent"), e.getMessage());
        await().atMost(WAIT).until(() -> agents.soleActive().isPresent());
    }

    @Test
    void nodeLeftByADeadAgentOnThisHostIsReplaced() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        AgentRecord stale = record("a", Hostnames.local(), gone.pid(), 41);
        agents.observer()
                .create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(agents.paths().agent("a"), Json.encode(stale));

        agents.start("a");

        await().atMost(WAIT).until(() -> agents.published().stream()
                .anyMatch(r -> r.node().equals("a")
                        && r.pid() == ProcessHandle.current().pid()));
    }

    @Test
    void nodeHeldByAnotherSessionAtTheExpectedVersionIsMovedToTheAgentsSession() throws Exception {
        // As after a quorum loss: Curator opened a new session while the ensemble kept the old one,
        // whose node the agent's heartbeat (same version) would keep writing until it vanished.
        // There the agent's new session makes its next tick write; here its session stays, so a
        // short refresh makes that write (agentRecreatesItsNodeAfterANewSession covers the trigger).
        agents.start("a", server.getConnectString(), "asfc.controller.heartbeat-refresh = 200ms");
        String path = agents.paths().agent("a");
        await().atMost(WAIT).until(() -> agents.observer().checkExists().forPath(path) != null);
        long agentSession =
                agents.client("a").getZookeeperClient().getZooKeeper().getSessionId();
        try (CuratorFramework old = CuratorFrameworkFactory.newClient(
                server.getConnectString(), new org.apache.curator.retry.RetryOneTime(100))) {
            old.start();
            old.blockUntilConnected();
            Stat stat = old.checkExists().forPath(path);
            byte[] data = old.getData().forPath(path);
            old.transaction()
                    .forOperations(
                            old.transactionOp()
                                    .delete()
                                    .withVersion(stat.getVersion())
                                    .forPath(path),
                            old.transactionOp()
                                    .create()
                                    .withMode(CreateMode.EPHEMERAL)
                                    .forPath(path, data));
            // bring the old session's node to the version the agent expects to write next
            for (int v = 0; v < stat.getVersion(); v++) {
                old.setData().forPath(path, data);
            }

            await().atMost(WAIT).until(() -> old.checkExists().forPath(path).getEphemeralOwner() == agentSession);
        }
        // the old session is gone; the node is not
        await().during(Duration.ofSeconds(1))
                .atMost(WAIT)
                .until(() -> agents.observer().checkExists().forPath(path) != null);
    }

    @Test
    void agentRecreatesItsNodeAfterANewSession() throws Exception {
        agents.start("a");
        long owner = agents.observer()
                .checkExists()
                .forPath(agents.paths().agent("a"))
                .getEphemeralOwner();

        agents.client("a").getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

        await().atMost(WAIT).until(() -> {
            var stat = agents.observer().checkExists().forPath(agents.paths().agent("a"));
            return stat != null && stat.getEphemeralOwner() != owner;
        });
        await().atMost(WAIT).until(() -> hasEvent("agent-rejoined", "a"));
    }

    @Test
    void leaderReportsAnAgentWhoseHeartbeatStops() throws Exception {
        agents.start("a", server.getConnectString(), "asfc.controller.heartbeat-refresh = 200ms");
        await().atMost(WAIT).until(() -> agents.soleActive().isPresent());
        String frozen = agents.paths().agent("z");
        agents.observer()
                .create()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(frozen, Json.encode(record("z", "elsewhere", 7, 5)));

        await().atMost(WAIT).until(() -> hasEvent("agent-stuck", "z: heartbeat seq 5"));

        agents.observer().setData().forPath(frozen, Json.encode(record("z", "elsewhere", 7, 6)));
        await().atMost(WAIT).until(() -> hasEvent("agent-unstuck", "z"));
        long seqA = agents.published().stream()
                .filter(r -> r.node().equals("a"))
                .findFirst()
                .orElseThrow()
                .heartbeat()
                .seq();
        assertNotEquals(0, seqA);
    }

    @Test
    void heartbeatSeqAdvancesEveryRefresh() throws Exception {
        agents.start("a", server.getConnectString(), "asfc.controller.heartbeat-refresh = 200ms");
        long first = seq("a");

        await().atMost(WAIT).until(() -> seq("a") >= first + 5);
        assertEquals(AgentRecord.Role.ACTIVE, agents.published().get(0).role());
    }

    @Test
    void idleAgentDoesNotRewriteItsRecordButWritesAChangeAtOnce() throws Exception {
        // shipped heartbeat-refresh (30s); heartbeat-interval is TestAgents.HEARTBEAT (200ms)
        agents.start("a");
        String path = agents.paths().agent("a");
        await().atMost(WAIT).until(() -> {
            AgentRecord.SchedulerState s = scheduler(path);
            return s.running() && !s.starting() && s.pid() != null;
        });
        int settled = agents.observer().checkExists().forPath(path).getVersion();

        // 15 heartbeat intervals with nothing changing: at most one write (a change in flight)
        await().during(TestAgents.HEARTBEAT.multipliedBy(15))
                .atMost(WAIT)
                .until(() -> agents.observer().checkExists().forPath(path).getVersion() <= settled + 1);

        long pid = scheduler(path).pid();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        // the death is written long before the 30s refresh could have carried it
        await().atMost(WAIT).until(() -> {
            AgentRecord.SchedulerState s = scheduler(path);
            return !s.running() || s.pid() == null || s.pid() != pid;
        });
    }

    private AgentRecord.SchedulerState scheduler(String path) throws Exception {
        return Json.decode(path, agents.observer().getData().forPath(path), AgentRecord.class)
                .orElseThrow()
                .scheduler();
    }

    private long seq(String node) throws Exception {
        return agents.published().stream()
                .filter(r -> r.node().equals(node))
                .findFirst()
                .map(r -> r.heartbeat().seq())
                .orElse(-1L);
    }

    private boolean hasEvent(String type, String detailPrefix) {
        return new EventLog(agents.observer(), agents.paths(), "observer", 1000, Clock.systemUTC())
                .recent(100).stream()
                        .anyMatch(e -> e.event().type().equals(type)
                                && e.event().detail().startsWith(detailPrefix));
    }

    private static AgentRecord record(String node, String host, long pid, long seq) {
        return new AgentRecord(
                node,
                host,
                pid,
                "test",
                AgentRecord.Role.STANDBY,
                AgentRecord.SchedulerState.STOPPED,
                new AgentRecord.Heartbeat(seq, Instant.now()),
                Instant.now());
    }
}
