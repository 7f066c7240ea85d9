package io.asfc.agent.election;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asfc.agent.testing.TestAgents;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A ZooKeeper ensemble re-election shorter than the session must not change the ACTIVE agent. */
class EnsembleLeaderLossTest {
    private static final Duration SESSION = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private TestingCluster cluster;
    private TestAgents agents;

    @BeforeEach
    void start() throws Exception {
        System.setProperty("zookeeper.4lw.commands.whitelist", "*");
        cluster = new TestingCluster(3);
        cluster.start();
        agents = new TestAgents(dir, cluster.getConnectString(), SESSION);
    }

    /** Asks the server with the {@code srvr} four-letter word whether it leads the ensemble. */
    private static boolean isLeader(InstanceSpec spec) {
        try (Socket socket = new Socket("127.0.0.1", spec.getPort())) {
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return reply.contains("Mode: leader");
        } catch (IOException e) {
            return false; // not answering: not the leader we are looking for
        }
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        cluster.close();
    }

    @Test
    void killingTheZooKeeperLeaderKeepsTheSameActiveAtTheSameEpoch() throws Exception {
        for (String node : List.of("a", "b", "c")) {
            agents.start(node);
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> agents.soleActive().isPresent());
        String active = agents.soleActive().orElseThrow();
        long epoch = agents.epoch();

        InstanceSpec zkLeader = cluster.getInstances().stream()
                .filter(EnsembleLeaderLossTest::isLeader)
                .findFirst()
                .orElseThrow();
        cluster.killServer(zkLeader);

        // Every agent sees the blip (SUSPENDED), then reconnects within the session. (The test's own
        // observer client may see ConnectionLoss while the ensemble elects its new leader.)
        await().atMost(SESSION)
                .ignoreExceptionsInstanceOf(KeeperException.ConnectionLossException.class)
                .until(() -> agents.soleActive().equals(Optional.of(active))
                        && agents.published().size() == 3);
        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(5))
                .ignoreExceptionsInstanceOf(KeeperException.ConnectionLossException.class)
                .until(() -> agents.soleActive().equals(Optional.of(active)));
        assertEquals(epoch, agents.epoch(), "no new leadership: the epoch is unchanged");
        assertEquals(epoch, agents.active().orElseThrow().epoch());
    }
}
