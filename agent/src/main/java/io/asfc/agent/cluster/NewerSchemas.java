package io.asfc.agent.cluster;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Decoded;
import io.asfc.common.zk.EpochRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;

/**
 * Finds the records of the cluster that an agent of a newer major schema wrote (docs/UPGRADE.md):
 * {@code active}, {@code epoch}, {@code scheduler}, {@code control}, every {@code agents/<node>}
 * and {@code nodes/<node>}. An agent that finds one does not become ACTIVE. The audit trail
 * ({@code events/}) is not looked at: nothing acts on it.
 */
public final class NewerSchemas {
    private NewerSchemas() {}

    /**
     * Each record of a newer major schema, as {@code "<path> (schema <version>)"}; empty when there
     * is none.
     *
     * @throws ZkException when ZooKeeper cannot answer; the message names the path
     */
    public static List<String> find(CuratorFramework client, ZkPaths paths) {
        return new ArrayList<>(byPath(client, paths).values());
    }

    /**
     * As {@link #find}, keyed by path (in the order {@link #find} lists them).
     *
     * @throws ZkException when ZooKeeper cannot answer; the message names the path
     */
    public static Map<String, String> byPath(CuratorFramework client, ZkPaths paths) {
        Map<String, String> found = new LinkedHashMap<>();
        check(client, paths.active(), ActiveRecord.class, found);
        check(client, paths.epoch(), EpochRecord.class, found);
        check(client, paths.scheduler(), Assignment.class, found);
        check(client, paths.control(), ControlRecord.class, found);
        for (String node : ClusterReader.children(client, paths.agents())) {
            check(client, paths.agent(node), AgentRecord.class, found);
        }
        for (String node : ClusterReader.children(client, paths.nodes())) {
            check(client, paths.node(node), NodeRecord.class, found);
        }
        return found;
    }

    /**
     * The record type of {@code path} when it is one of the records {@link #find} looks at, else
     * empty (the audit trail, the leader latch, anything else under the cluster's znode).
     */
    public static Optional<Class<?>> recordAt(ZkPaths paths, String path) {
        if (path.equals(paths.active())) {
            return Optional.of(ActiveRecord.class);
        }
        if (path.equals(paths.epoch())) {
            return Optional.of(EpochRecord.class);
        }
        if (path.equals(paths.scheduler())) {
            return Optional.of(Assignment.class);
        }
        if (path.equals(paths.control())) {
            return Optional.of(ControlRecord.class);
        }
        String parent = ZKPaths.getPathAndNode(path).getPath();
        if (parent.equals(paths.agents())) {
            return Optional.of(AgentRecord.class);
        }
        if (parent.equals(paths.nodes())) {
            return Optional.of(NodeRecord.class);
        }
        return Optional.empty();
    }

    /**
     * Whether the record at {@code path} (one that {@link #recordAt} knows) is of a newer major
     * schema now: {@code "<path> (schema <version>)"}, else empty (also when it is gone).
     *
     * @throws ZkException when ZooKeeper cannot answer
     */
    public static Optional<String> at(CuratorFramework client, ZkPaths paths, String path) {
        Optional<Class<?>> type = recordAt(paths, path);
        if (type.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> found = new LinkedHashMap<>(2);
        check(client, path, type.get(), found);
        return Optional.ofNullable(found.get(path));
    }

    private static void check(CuratorFramework client, String path, Class<?> type, Map<String, String> found) {
        byte[] data;
        try {
            data = client.getData().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return; // nothing there, nothing newer
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new ZkException(path, e);
        }
        Decoded<?> read = Json.read(path, data, type);
        if (read.outcome() == Decoded.Outcome.NEWER) {
            found.put(path, path + " (schema " + read.schema() + ")");
        }
    }
}
