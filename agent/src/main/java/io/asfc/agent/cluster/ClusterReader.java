package io.asfc.agent.cluster;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Reads the cluster straight from ZooKeeper (after a sync), never from a cache: the whole {@link
 * ClusterSnapshot} for the command line and HTTP, or the {@link AssignmentSnapshot} a supervisor acts on.
 */
public final class ClusterReader {
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final String cluster;
    private final Clock clock;

    public ClusterReader(CuratorFramework client, ZkPaths paths, String cluster, Clock clock) {
        this.client = client;
        this.paths = paths;
        this.cluster = cluster;
        this.clock = clock;
    }

    /** @throws ZkException when ZooKeeper cannot answer; the message names the path */
    public ClusterSnapshot read() {
        ZkException.call(paths.cluster(), () -> client.sync().forPath(paths.cluster()));
        Stat epoch = ZkException.call(paths.epoch(), () -> client.checkExists().forPath(paths.epoch()));
        List<ClusterSnapshot.Agent> agents = new ArrayList<>();
        for (String node : children(paths.agents())) {
            Stat stat = new Stat();
            data(paths.agent(node), stat)
                    .ifPresent(bytes -> agents.add(new ClusterSnapshot.Agent(
                            node,
                            Json.decode(paths.agent(node), bytes, AgentRecord.class)
                                    .orElse(null),
                            Instant.ofEpochMilli(stat.getMtime()))));
        }
        List<NodeRecord> nodes = new ArrayList<>();
        for (String node : children(paths.nodes())) {
            NodeRecord record = decode(paths.node(node), NodeRecord.class);
            if (record != null) {
                nodes.add(record);
            }
        }
        return new ClusterSnapshot(
                cluster,
                paths.cluster(),
                clock.instant(),
                decode(paths.active(), ActiveRecord.class),
                epoch == null ? 0 : epoch.getVersion(),
                decode(paths.scheduler(), Assignment.class),
                decode(paths.control(), ControlRecord.class),
                nodes,
                agents);
    }

    /**
     * The control record, the assignment and the epoch, read straight after a sync: the fresh read
     * a supervisor needs before it acts (S3).
     *
     * @throws ZkException when ZooKeeper cannot answer
     */
    public AssignmentSnapshot readAssignment() {
        try {
            client.sync().forPath(paths.scheduler());
            Znode<ControlRecord> control = Znode.read(client, paths.control(), ControlRecord.class);
            Znode<Assignment> assignment = Znode.read(client, paths.scheduler(), Assignment.class);
            Stat epoch = client.checkExists().forPath(paths.epoch());
            return new AssignmentSnapshot(control, assignment, epoch == null ? 0 : epoch.getVersion());
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new ZkException(paths.scheduler(), e);
        }
    }

    private <T> T decode(String path, Class<T> type) {
        return data(path, new Stat())
                .flatMap(bytes -> Json.decode(path, bytes, type))
                .orElse(null);
    }

    private Optional<byte[]> data(String path, Stat stat) {
        return ZkException.call(path, () -> {
            try {
                return Optional.of(client.getData().storingStatIn(stat).forPath(path));
            } catch (KeeperException.NoNodeException e) {
                return Optional.empty();
            }
        });
    }

    private List<String> children(String path) {
        return ZkException.call(path, () -> {
            try {
                List<String> names = new ArrayList<>(client.getChildren().forPath(path));
                names.sort(null);
                return names;
            } catch (KeeperException.NoNodeException e) {
                return List.of();
            }
        });
    }
}
