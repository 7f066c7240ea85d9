package io.asfc.agent.cluster;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
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

    /**
     * The assignment, control, agent and node znodes, read after a sync: what the leader's
     * decisions and every view of the cluster are made from. The one reader of these znodes.
     *
     * @throws ZkException when ZooKeeper cannot answer; the message names the path
     */
    public static ClusterZnodes znodes(CuratorFramework client, ZkPaths paths) {
        ZkException.call(paths.cluster(), () -> client.sync().forPath(paths.cluster()));
        SortedMap<String, Znode<AgentRecord>> agents = new TreeMap<>();
        for (String node : children(client, paths.agents())) {
            Znode<AgentRecord> z = Znode.read(client, paths.agent(node), AgentRecord.class);
            if (!z.absent()) {
                agents.put(node, z);
            }
        }
        SortedMap<String, Znode<NodeRecord>> nodes = new TreeMap<>();
        for (String node : children(client, paths.nodes())) {
            Znode<NodeRecord> z = Znode.read(client, paths.node(node), NodeRecord.class);
            if (!z.absent()) {
                nodes.put(node, z);
            }
        }
        return new ClusterZnodes(
                Znode.read(client, paths.scheduler(), Assignment.class),
                Znode.read(client, paths.control(), ControlRecord.class),
                agents,
                nodes);
    }

    /** @throws ZkException when ZooKeeper cannot answer; the message names the path */
    public ClusterSnapshot read() {
        ClusterZnodes z = znodes(client, paths);
        Stat epoch = ZkException.call(paths.epoch(), () -> client.checkExists().forPath(paths.epoch()));
        Znode<ActiveRecord> active = Znode.read(client, paths.active(), ActiveRecord.class);
        List<ClusterSnapshot.Agent> agents = new ArrayList<>();
        z.agents()
                .forEach((node, agent) -> agents.add(new ClusterSnapshot.Agent(
                        node, agent.value(), Instant.ofEpochMilli(agent.stat().getMtime()))));
        List<NodeRecord> nodes = z.nodes().values().stream()
                .filter(Znode::present)
                .map(Znode::value)
                .toList();
        return new ClusterSnapshot(
                cluster,
                paths.cluster(),
                clock.instant(),
                active.value(),
                epoch == null ? 0 : epoch.getVersion(),
                z.assignment().value(),
                z.control().value(),
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

    static List<String> children(CuratorFramework client, String path) {
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
