package io.asfc.agent.metrics;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.CloseableUtils;
import org.apache.curator.utils.ZKPaths;

/**
 * Keeps {@link Metrics#assignment} and {@link Metrics#quarantined} in step with the
 * {@code scheduler} znode and the {@code nodes/<node>} records, through two caches (persistent
 * watches: no reads unless something changes), and tells the hooks the epoch of each assignment.
 * Nothing but gauges and that hint follows from it, never a decision: the
 * supervisor and the controller read ZooKeeper themselves.
 */
public final class ClusterWatch implements Closeable {
    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final ZkPaths paths;
    private final Metrics metrics;
    private final CuratorCache scheduler;
    private final CuratorCache nodes;
    private final LongConsumer epochs;

    public ClusterWatch(CuratorFramework client, ZkPaths paths, Metrics metrics) {
        this(client, paths, metrics, epoch -> {});
    }

    /** @param epochs told the epoch of each assignment read (for hooks; never a decision) */
    public ClusterWatch(CuratorFramework client, ZkPaths paths, Metrics metrics, LongConsumer epochs) {
        this.epochs = epochs;
        this.paths = paths;
        this.metrics = metrics;
        this.scheduler = CuratorCache.build(client, paths.scheduler(), CuratorCache.Options.SINGLE_NODE_CACHE);
        this.nodes = CuratorCache.build(client, paths.nodes());
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("the cluster watch can be started only once");
        }
        scheduler
                .listenable()
                .addListener(CuratorCacheListener.builder()
                        .forAll((type, before, after) -> showAssignment())
                        .build());
        nodes.listenable()
                .addListener(CuratorCacheListener.builder()
                        .forAll((type, before, after) -> showQuarantines())
                        .build());
        scheduler.start();
        nodes.start();
    }

    /** Runs on Curator's event thread: decodes one small znode, sets gauges. */
    private void showAssignment() {
        Optional<Assignment> assignment = scheduler
                .get(paths.scheduler())
                .flatMap(d -> Json.decode(paths.scheduler(), d.getData(), Assignment.class));
        assignment.ifPresent(a -> epochs.accept(a.epoch()));
        metrics.assignment(assignment.map(Assignment::node));
    }

    private void showQuarantines() {
        Set<String> quarantined = nodes.stream()
                .filter(d -> isChild(d.getPath()))
                .map(d -> Json.decode(d.getPath(), d.getData(), NodeRecord.class))
                .flatMap(Optional::stream)
                .filter(NodeRecord::quarantined)
                .map(NodeRecord::node)
                .collect(Collectors.toSet());
        metrics.quarantined(quarantined);
    }

    private boolean isChild(String path) {
        return paths.nodes().equals(ZKPaths.getPathAndNode(path).getPath());
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        CloseableUtils.closeQuietly(nodes);
        CloseableUtils.closeQuietly(scheduler);
    }
}
