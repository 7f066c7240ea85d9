package io.asfc.agent.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.Modes.AuthScheme;
import io.asfc.common.config.Secret;
import io.asfc.common.config.ZkSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedZooKeeperTest {
    @TempDir
    Path dir;

    @Test
    void servesClientsAndRefusesASecondServerOnTheSamePort() throws Exception {
        ZkSettings zk = settings(freePort());
        try (EmbeddedZooKeeper server = new EmbeddedZooKeeper(zk.embedded());
                EmbeddedZooKeeper second = new EmbeddedZooKeeper(zk.embedded())) {
            server.start();
            try (CuratorFramework client = ZkClients.start(zk, "test")) {
                ZkClients.awaitConnected(client, zk);
                client.create().creatingParentsIfNeeded().forPath("/airflow/failover/probe", "x".getBytes());
                assertNotNull(client.checkExists().forPath("/airflow/failover/probe"));
            }

            var e = assertThrows(EmbeddedZooKeeper.EmbeddedZooKeeperException.class, second::start);
            assertTrue(e.getMessage().contains("127.0.0.1:" + zk.embedded().port()), e.getMessage());
        }
    }

    @Test
    void unreachableZooKeeperIsReportedWithinTheConnectionTimeout() throws IOException {
        ZkSettings zk = settings(freePort());
        try (CuratorFramework client = ZkClients.start(zk, "test")) {
            var e = assertThrows(ZkUnreachableException.class, () -> ZkClients.awaitConnected(client, zk));

            assertEquals(
                    "cannot reach ZooKeeper at 127.0.0.1:" + zk.embedded().port()
                            + " within 1000ms (asfc.zookeeper.connect, asfc.zookeeper.connection-timeout)",
                    e.getMessage());
        }
    }

    private ZkSettings settings(int port) {
        return new ZkSettings(
                ZkSettings.EMBEDDED,
                "/airflow/failover",
                Duration.ofSeconds(10),
                Duration.ofSeconds(1),
                Duration.ofSeconds(4),
                AuthScheme.DIGEST,
                "",
                Secret.empty(),
                ZkSettings.Sasl.none(),
                AclMode.OPEN,
                new ZkSettings.Embedded("127.0.0.1", port, dir.resolve("zk")),
                ZkSettings.Client.plain());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
