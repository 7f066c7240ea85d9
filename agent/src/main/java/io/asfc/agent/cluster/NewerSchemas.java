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
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
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
        List<String> found = new ArrayList<>();
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

    private static void check(CuratorFramework client, String path, Class<?> type, List<String> found) {
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
            found.add(path + " (schema " + read.schema() + ")");
        }
    }
}
