package io.asfc.agent.cluster;

import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Read-modify-write of the {@code control} znode, with a version check so no request is lost.
 * Used by the command line and the demo.
 */
public final class ControlWriter {
    private static final int ATTEMPTS = 5;

    private ControlWriter() {}

    /**
     * @throws ConcurrentChangeException when the znode kept changing under us
     * @throws ZkException when ZooKeeper cannot answer
     */
    public static ControlRecord update(CuratorFramework client, ZkPaths paths, UnaryOperator<ControlRecord> change) {
        for (int attempt = 1; ; attempt++) {
            Znode<ControlRecord> current = Znode.read(client, paths.control(), ControlRecord.class);
            ControlRecord before = current.present() ? current.value() : ControlRecord.NONE;
            ControlRecord next = change.apply(before);
            if (next == before && current.present()) {
                return next; // nothing to change
            }
            try {
                if (current.absent()) {
                    client.create().creatingParentContainersIfNeeded().forPath(paths.control(), Json.encode(next));
                } else {
                    client.setData()
                            .withVersion(current.stat().getVersion())
                            .forPath(paths.control(), Json.encode(next));
                }
                return next;
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
                if (attempt == ATTEMPTS) {
                    throw new ConcurrentChangeException(paths.control() + " keeps changing under us; try again");
                }
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new ZkException(paths.control(), e);
            }
        }
    }
}
