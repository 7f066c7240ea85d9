package io.asfc.agent.doctor;

import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.cluster.Znode;
import io.asfc.agent.zk.ZkClients;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.S4Budget;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshPhases;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;

/**
 * The effects of {@code doctor}: reads the cluster from ZooKeeper (with {@link ClusterReader}) and
 * probes every node over SSH at once, into a {@link DoctorFacts} for {@link Diagnosis}.
 */
public final class FactGatherer {
    private final AsfcSettings settings;
    private final Clock clock;
    private final Duration maxClockSkew;

    public FactGatherer(AsfcSettings settings, Clock clock, Duration maxClockSkew) {
        this.settings = settings;
        this.clock = clock;
        this.maxClockSkew = maxClockSkew;
    }

    /** @throws IllegalArgumentException when an SSH identity file cannot be used (a config problem) */
    public DoctorFacts gather() {
        ZkPaths paths = new ZkPaths(settings.zookeeper().root(), settings.cluster());
        String connect = settings.zookeeper().effectiveConnect();
        ExecutorService probing = Executors.newFixedThreadPool(
                Math.max(1, settings.nodes().size()), Threads.factory("asfc-doctor-ssh-%d", settings.nodeId()));
        try (SshClient ssh = settings.ssh().enabled() ? new SshClient(settings.ssh()) : null) {
            // every node at once, while ZooKeeper is read: the slowest probe bounds the wait
            Map<String, CompletableFuture<SshPhases>> probes = new LinkedHashMap<>();
            if (ssh != null) {
                for (String node : settings.nodes()) {
                    SshTarget target = SshTarget.of(settings, node);
                    probes.put(node, CompletableFuture.supplyAsync(() -> ssh.timedProbe(target, "true"), probing));
                }
            }
            DoctorFacts.ZooKeeper zk;
            Znode<ActiveRecord> active = null;
            long epoch = 0;
            ClusterZnodes znodes = null;
            CuratorFramework client = ZkClients.start(settings.zookeeper(), settings.nodeId());
            try {
                ZkClients.awaitConnected(client, settings.zookeeper());
                long start = System.nanoTime();
                ZkException.call(paths.cluster(), () -> client.checkExists().forPath(paths.cluster()));
                zk = new DoctorFacts.ZooKeeper(connect, Duration.ofNanos(System.nanoTime() - start), null);
                znodes = ClusterReader.znodes(client, paths);
                active = Znode.read(client, paths.active(), ActiveRecord.class);
                Stat stat = ZkException.call(
                        paths.epoch(), () -> client.checkExists().forPath(paths.epoch()));
                epoch = stat == null ? 0 : stat.getVersion();
            } catch (ZkUnreachableException | ZkException e) {
                // not an error of doctor's: the finding it reports (down)
                zk = new DoctorFacts.ZooKeeper(connect, null, e.getMessage());
                active = null;
                znodes = null;
            } finally {
                client.close();
            }
            Map<String, SshPhases> phases = new LinkedHashMap<>();
            probes.forEach((node, probe) -> phases.put(node, probe.join()));
            return new DoctorFacts(
                    settings.cluster(), paths.cluster(), clock.instant(), config(), zk, active, epoch, znodes, phases);
        } finally {
            probing.shutdownNow();
        }
    }

    private DoctorFacts.Config config() {
        return new DoctorFacts.Config(
                settings.nodes(),
                Set.copyOf(settings.agentlessNodes()),
                S4Budget.of(settings).problem(),
                settings.ssh().enabled(),
                settings.ssh().commandTimeout(),
                settings.controller().pollInterval(),
                maxClockSkew);
    }
}
