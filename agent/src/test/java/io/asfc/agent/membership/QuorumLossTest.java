package io.asfc.agent.membership;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quorum loss longer than the session: the agents self-fence, Curator gives up on their sessions
 * and opens new ones when the quorum is back. Each agent must then own its node under its new
 * session, and the scheduler, started once more, must stay put. (Whether the ensemble still holds
 * the old sessions at that moment depends on its timing; MembershipTest covers the case where it
 * does.)
 */
class QuorumLossTest {
    private static final Duration SESSION = Duration.ofSeconds(4);

    @TempDir
    Path dir;

    private TestingCluster cluster;
    private TestAgents agents;
    private StandIn standIn;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestingCluster(3);
        cluster.start();
        agents = new TestAgents(dir, cluster.getConnectString(), SESSION);
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        cluster.close();
    }

    @Test
    void agentNodesMoveToTheNewSessionsAndTheSchedulerStaysPut() throws Exception {
        for (String node : List.of("a", "b")) {
            agents.start(node, cluster.getConnectString(), config(node));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> standIn.mains().size() == 1);
        long firstA = session("a");

        // Two of three servers stop for longer than the session: no quorum; the clients give up
        // on their sessions on their side only, and the agents self-fence.
        List<InstanceSpec> stopped = cluster.getInstances().stream().limit(2).toList();
        for (InstanceSpec spec : stopped) {
            cluster.killServer(spec);
        }
        Thread.sleep(SESSION.toMillis() + 2000); // hold the fault past the session timeout
        for (InstanceSpec spec : stopped) {
            cluster.restartServer(spec);
        }

        await().atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .until(() -> session("a") != firstA && ownsItsNode("a") && ownsItsNode("b"));
        await().atMost(Duration.ofSeconds(30)).until(() -> standIn.mains().size() == 1);
        long pid = standIn.mains().values().iterator().next().pid();
        // Past the ensemble's expiry of the old sessions: the nodes stay, nothing moves or restarts.
        await().during(SESSION.plusSeconds(3))
                .atMost(SESSION.plusSeconds(20))
                .ignoreExceptions()
                .until(() -> ownsItsNode("a")
                        && ownsItsNode("b")
                        && standIn.mains().size() == 1
                        && standIn.mains().values().iterator().next().pid() == pid);
        assertEquals(1, standIn.mains().size());
    }

    private String config(String node) {
        return StandIn.FAST_TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b]\n";
    }

    private long session(String node) throws Exception {
        return agents.client(node).getZookeeperClient().getZooKeeper().getSessionId();
    }

    private boolean ownsItsNode(String node) throws Exception {
        Stat stat = agents.observer().checkExists().forPath(agents.paths().agent(node));
        if (stat == null) {
            throw new KeeperException.NoNodeException(agents.paths().agent(node));
        }
        return agents.client(node).getZookeeperClient().isConnected() && stat.getEphemeralOwner() == session(node);
    }
}
