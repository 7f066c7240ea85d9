package io.asfc.agent.election;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.zk.AgentRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentElectionTest {
    private static final Duration CONVERGE = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private final Map<String, ZkProxy> proxies = new HashMap<>();

    @BeforeEach
    void startZooKeeper() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
    }

    @AfterEach
    void stopAll() throws Exception {
        agents.close();
        for (ZkProxy proxy : proxies.values()) {
            proxy.close();
        }
        server.close();
    }

    @Test
    void exactlyOneOfThreeAgentsIsActive() throws Exception {
        startThree();

        String leader = awaitSoleActive();

        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> agents.soleActive()
                .equals(Optional.of(leader)));
        assertEquals(3, agents.published().size());
        assertEquals(agents.epoch(), agents.active().orElseThrow().epoch(), "active carries the current epoch");
    }

    @Test
    void standbyTakesOverWithinSessionTimeoutWhenActiveDiesWithoutCleanup() throws Exception {
        startThree();
        String leader = awaitSoleActive();
        long epoch = agents.epoch();

        proxies.get(leader).cut(); // like a crash: no close, the session just stops

        await().atMost(agents.session().plus(Duration.ofSeconds(3)))
                .until(() -> agents.soleActive().filter(n -> !n.equals(leader)).isPresent());
        assertTrue(agents.epoch() > epoch, "a new leader takes a new epoch");
    }

    @Test
    void gracefulStopHandsLeadershipOverAtOnce() throws Exception {
        startThree();
        String leader = awaitSoleActive();

        agents.stop(leader);

        await().atMost(Duration.ofSeconds(2))
                .until(() -> agents.soleActive().filter(n -> !n.equals(leader)).isPresent());
        assertEquals(2, agents.published().size(), "the stopped agent removed its node");
    }

    @Test
    void clientSideSessionExpiryRecoversToExactlyOneActive() throws Exception {
        startThree();
        String leader = awaitSoleActive();

        agents.client(leader).getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

        await().atMost(CONVERGE)
                .until(() ->
                        agents.soleActive().isPresent() && agents.published().size() == 3);
    }

    @Test
    void serverSideSessionExpiryRecoversToExactlyOneActive() throws Exception {
        startThree();
        String leader = awaitSoleActive();
        ZooKeeper victim = agents.client(leader).getZookeeperClient().getZooKeeper();

        // Closing a handle that shares the victim's session makes the server close that session.
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(
                server.getConnectString(),
                4000,
                event -> {
                    if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        connected.countDown();
                    }
                },
                victim.getSessionId(),
                victim.getSessionPasswd());
        assertTrue(connected.await(5, TimeUnit.SECONDS), "twin handle connects");
        twin.close();

        await().atMost(CONVERGE)
                .until(() -> agents.soleActive().filter(n -> !n.equals(leader)).isPresent()
                        && agents.published().size() == 3);
    }

    @Test
    void malformedJsonInZnodesIsIgnoredAndAgentsKeepWorking() throws Exception {
        startThree("asfc.controller.heartbeat-refresh = 200ms"); // idle agents' seqs then advance
        String leader = awaitSoleActive();
        var zk = agents.observer();
        byte[] garbage = "{not json".getBytes(StandardCharsets.UTF_8);
        zk.create().withMode(CreateMode.EPHEMERAL).forPath(agents.paths().agent("x"), garbage);
        await().atMost(CONVERGE)
                .until(() -> zk.checkExists().forPath(agents.paths().scheduler()) != null);
        zk.setData().forPath(agents.paths().scheduler(), "{\"node\": 5, \"epoch\": \"soon\"}".getBytes());
        zk.setData().forPath(agents.paths().active(), garbage);
        Map<String, Long> before = seqs();

        await().atMost(CONVERGE).until(() -> {
            Map<String, Long> now = seqs();
            return List.of("a", "b", "c").stream().allMatch(n -> now.get(n) > before.get(n) + 2);
        });
        agents.stop(leader); // the next leader replaces the garbage in active
        await().atMost(CONVERGE)
                .until(() -> agents.soleActive().filter(n -> !n.equals(leader)).isPresent());
    }

    private Map<String, Long> seqs() throws Exception {
        Map<String, Long> result = new HashMap<>();
        for (AgentRecord a : agents.published()) {
            result.put(a.node(), a.heartbeat().seq());
        }
        return result;
    }

    private void startThree() throws Exception {
        startThree("");
    }

    private void startThree(String extraConfig) throws Exception {
        for (String node : List.of("a", "b", "c")) {
            ZkProxy proxy = new ZkProxy(server.getPort());
            proxies.put(node, proxy);
            agents.start(node, proxy.connectString(), extraConfig);
        }
    }

    private String awaitSoleActive() {
        await().atMost(CONVERGE).until(() -> agents.soleActive().isPresent());
        try {
            String leader = agents.soleActive().orElseThrow();
            assertNotEquals("", leader);
            return leader;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
