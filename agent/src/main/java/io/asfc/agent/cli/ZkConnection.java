package io.asfc.agent.cli;

import io.asfc.agent.zk.ZkClients;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import org.apache.curator.framework.CuratorFramework;

/** A command's short-lived ZooKeeper client; exit code 69 when ZooKeeper can't be reached. */
final class ZkConnection implements Closeable {
    private final CuratorFramework client;
    private final ZkPaths paths;

    private ZkConnection(CuratorFramework client, ZkPaths paths) {
        this.client = client;
        this.paths = paths;
    }

    static ZkConnection open(AsfcSettings settings) {
        CuratorFramework client = ZkClients.start(settings.zookeeper(), settings.nodeId());
        try {
            ZkClients.awaitConnected(client, settings.zookeeper());
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        return new ZkConnection(client, new ZkPaths(settings.zookeeper().root(), settings.cluster()));
    }

    CuratorFramework client() {
        return client;
    }

    ZkPaths paths() {
        return paths;
    }

    @Override
    public void close() {
        client.close();
    }
}
