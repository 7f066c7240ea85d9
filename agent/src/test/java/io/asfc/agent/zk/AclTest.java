package io.asfc.agent.zk;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.asfc.agent.testing.TestAgents;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code acl = creator} with digest auth: others may read our znodes, but not change them. */
class AclTest {
    private static final String AUTH =
            "\nasfc.zookeeper { acl = creator, auth { user = asfc, password = \"s3cret\" } }\n";

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private CuratorFramework stranger;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        stranger = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        stranger.start();
    }

    @AfterEach
    void stop() throws Exception {
        stranger.close();
        agents.close();
        server.close();
    }

    @Test
    void unauthenticatedClientCanReadButNotModifyOrDelete() throws Exception {
        agents.start("a", server.getConnectString(), AUTH);
        await().atMost(Duration.ofSeconds(15))
                .until(() ->
                        agents.soleActive().isPresent() && agents.assignment().isPresent());
        byte[] garbage = "{}".getBytes(StandardCharsets.UTF_8);
        var p = agents.paths();

        for (String path : List.of(p.cluster(), p.active(), p.epoch(), p.scheduler(), p.agent("a"), p.events())) {
            assertNotNull(stranger.getData().forPath(path), "readable: " + path);
            assertThrows(
                    KeeperException.NoAuthException.class,
                    () -> stranger.setData().forPath(path, garbage),
                    "set " + path);
        }
        for (String path : List.of(p.active(), p.scheduler(), p.agent("a"), p.epoch())) {
            assertThrows(
                    KeeperException.NoAuthException.class,
                    () -> stranger.delete().forPath(path),
                    "delete " + path);
        }
        assertThrows(
                KeeperException.NoAuthException.class,
                () -> stranger.create().forPath(p.control(), garbage),
                "create under the cluster");
    }
}
