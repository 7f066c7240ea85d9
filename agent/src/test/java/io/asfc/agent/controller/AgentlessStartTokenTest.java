package io.asfc.agent.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.Lease;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.ssh.StaleEpochException;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's fencing token against the race of a deposed leader's agentless start (SAFETY.md): the
 * start passed its fenced proof, then a newer leader host-stopped the node before the start's SSH
 * command arrived. Real ZooKeeper leases, a real sshd "host".
 */
class AgentlessStartTokenTest {
    @TempDir
    Path dir;

    private TestingServer server;
    private CuratorFramework client;
    private Sshd host;
    private SshClient ssh;
    private ZkPaths paths;
    private FencedWriter writer;
    private RemoteScheduler remote;
    private Metrics metrics;

    @BeforeEach
    void start() throws Exception {
        Sshd.assumeNamespacesAvailable();
        server = new TestingServer(true);
        client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        client.start();
        host = Sshd.startInOwnPidNamespace(dir.resolve("host"));
        AsfcSettings settings = new StandIn(dir).overSsh(host, "airflow scheduler");
        ssh = new SshClient(settings.ssh());
        paths = new ZkPaths("/airflow/failover", "default");
        writer = new FencedWriter(client, paths);
        remote = new RemoteScheduler(ssh, settings.scheduler(), "default", RemoteScheduler.Outcomes.NONE);
        metrics = new Metrics(settings, "test", System::nanoTime);
        client.create().creatingParentsIfNeeded().forPath(paths.epoch());
    }

    @AfterEach
    void stop() throws Exception {
        if (ssh != null) {
            ssh.close();
        }
        if (host != null) {
            host.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aDeposedLeadersStartThatPassedItsProofIsRefusedAfterTheNewLeadersHostStop() throws Exception {
        Lease old = lead("a");
        assign("c", old.epoch());
        AtomicReference<Lease> successor = new AtomicReference<>();
        // the deposed leader's start: proved, then (before its SSH command arrives) deposed, and the new
        // leader host-stops c and moves the assignment away
        SshOps deposed = ops(node -> {
            if (successor.get() == null) {
                try {
                    successor.set(lead("b"));
                    assertTrue(ops().hostStop(successor.get(), "c").ok());
                    assign("b", successor.get().epoch());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            return target();
        });

        long pid = deposed.startIfAssigned(old, "c");

        assertEquals(-1, pid, "the stale start is dropped, not a failure");
        assertFalse(remote.look(target()).anyMatch(), "two schedulers: the stale start landed on c");
        assertEquals(successor.get().epoch() + "\n", Files.readString(tokenFile()));
    }

    @Test
    void aRefusalWhileStillLeadingIsATokenOlderThanZooKeepersData() throws Exception {
        Lease lease = lead("a");
        assign("c", lease.epoch());
        // the host kept the token of a wiped ensemble, whose epochs had gone further
        Files.createDirectories(tokenFile().getParent());
        Files.writeString(tokenFile(), "41\n");

        StaleEpochException refused = assertThrows(StaleEpochException.class, () -> ops().startIfAssigned(lease, "c"));

        assertEquals(41, refused.recorded());
        assertFalse(remote.look(target()).anyMatch());
    }

    /** A new leadership: its latch node, and the epoch znode moved on (deposing every older lease). */
    private Lease lead(String node) throws Exception {
        String latch = client.create()
                .creatingParentsIfNeeded()
                .withMode(org.apache.zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL)
                .forPath(paths.epoch() + "-latch/" + node + "-");
        int version = client.setData().forPath(paths.epoch()).getVersion();
        return new Lease(node, version, latch);
    }

    private void assign(String node, long epoch) throws Exception {
        byte[] data = Json.encode(Assignment.to(node, epoch, Instant.now(), "test"));
        if (client.checkExists().forPath(paths.scheduler()) == null) {
            client.create().creatingParentsIfNeeded().forPath(paths.scheduler(), data);
        } else {
            client.setData().forPath(paths.scheduler(), data);
        }
    }

    private SshOps ops(Function<String, SshTarget> targets) {
        return new SshOps(client, paths, writer, remote, targets, metrics);
    }

    private SshOps ops() {
        return ops(node -> target());
    }

    private SshTarget target() {
        return new SshTarget("c", "127.0.0.1", host.user(), host.port());
    }

    private Path tokenFile() {
        return host.home().resolve(RemoteScheduler.tokenDir("default")).resolve("epoch");
    }
}
