package io.asfc.agent.election;

import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.TransactionOp;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;

/**
 * S2: commits leader-owned writes in one ZooKeeper {@code multi} that also checks that the writer's
 * latch node still exists and that the epoch znode still has the writer's version.
 */
public final class FencedWriter {
    private static final int FENCE_OPS = 2;

    private final CuratorFramework client;
    private final ZkPaths paths;

    public FencedWriter(CuratorFramework client, ZkPaths paths) {
        this.client = client;
        this.paths = paths;
    }

    public TransactionOp ops() {
        return client.transactionOp();
    }

    /**
     * @throws LeadershipLostException when the lease no longer holds; nothing was written
     * @throws ZkException when one of {@code ops} itself failed (its path, and {@link ZkException#code()}
     *     e.g. {@code BADVERSION}), or ZooKeeper could not be reached; nothing was written
     */
    public List<CuratorTransactionResult> commit(Lease lease, List<CuratorOp> ops) {
        List<CuratorOp> all = new ArrayList<>(FENCE_OPS + ops.size());
        try {
            all.add(client.transactionOp().check().forPath(lease.latchPath()));
            all.add(client.transactionOp()
                    .check()
                    .withVersion(lease.epochVersion())
                    .forPath(paths.epoch()));
            all.addAll(ops);
            return client.transaction().forOperations(all);
        } catch (KeeperException e) {
            int failed = failedIndex(e);
            if (failed >= 0 && failed < FENCE_OPS) {
                throw new LeadershipLostException("leadership of " + lease.node() + " at epoch " + lease.epoch()
                        + " no longer holds (" + (failed == 0 ? "latch node gone" : "epoch moved on")
                        + "); write refused");
            }
            throw new ZkException(failed >= 0 ? all.get(failed).getTypeAndPath().getForPath() : paths.epoch(), e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ZkException(paths.epoch(), e);
        }
    }

    private static int failedIndex(KeeperException e) {
        List<OpResult> results = e.getResults();
        if (results == null) {
            return -1;
        }
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i) instanceof OpResult.ErrorResult error
                    && error.getErr() != KeeperException.Code.OK.intValue()
                    && error.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                return i;
            }
        }
        return -1;
    }
}
