package io.asfc.agent.zk;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ZkException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;

/**
 * The one place that reads the client's current ZooKeeper session id, and asks whether an
 * ephemeral node belongs to that session (membership, election and supervisor all do).
 */
public final class ZkSession {
    private ZkSession() {}

    /** The id of the client's current session; it changes when a session expires and a new one begins. */
    public static long id(CuratorFramework client) {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new ZkException(
                    "the session of " + client.getZookeeperClient().getCurrentConnectionString(), e);
        }
    }

    /** True when {@code stat} is of an ephemeral node owned by the client's current session. */
    public static boolean owns(CuratorFramework client, Stat stat) {
        return stat != null && stat.getEphemeralOwner() == id(client);
    }

    /** True when {@code path} exists now and is an ephemeral node of the client's current session. */
    public static boolean ownsNode(CuratorFramework client, String path) {
        Stat stat;
        try {
            stat = client.checkExists().forPath(path);
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new ZkException(path, e);
        }
        return owns(client, stat);
    }
}
