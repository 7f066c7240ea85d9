package io.asfc.agent.controller;

import io.asfc.common.concurrent.Threads;
import java.io.Closeable;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One serial queue of blocking SSH operations per node. Operations on one node run one after the
 * other in the order they were queued, so a stop queued after a start runs after that start has
 * returned: it stops what the start started. Each operation's result comes back on the controller
 * thread, always, also when the work threw (then as {@code onFailure} of the exception, logged
 * with its stack). A node is busy while any operation on it is queued or running.
 */
final class NodeOps implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeOps.class);

    private final String nodeId;
    private final Executor controller;
    private final Map<String, ExecutorService> queues = new ConcurrentHashMap<>();
    /** Operations queued or running, per node. Only touched on the controller thread. */
    private final Map<String, Integer> pending = new HashMap<>();

    NodeOps(String nodeId, Executor controller) {
        this.nodeId = nodeId;
        this.controller = controller;
    }

    /** Called on the controller thread. */
    boolean busy(String node) {
        return pending.getOrDefault(node, 0) > 0;
    }

    /** Called on the controller thread: the nodes that are busy now. */
    Set<String> busyNodes() {
        Set<String> busy = new HashSet<>();
        pending.forEach((node, n) -> {
            if (n > 0) {
                busy.add(node);
            }
        });
        return busy;
    }

    /** Called on the controller thread: queues {@code work} on the node's queue. */
    <T> void submit(
            String node, String what, Supplier<T> work, Function<RuntimeException, T> onFailure, Consumer<T> then) {
        ExecutorService queue = queues.computeIfAbsent(
                node, n -> Executors.newSingleThreadExecutor(Threads.factory("asfc-ssh-" + n + "-%d", nodeId)));
        pending.merge(node, 1, Integer::sum);
        try {
            queue.execute(() -> {
                T result;
                try {
                    result = work.get();
                } catch (RuntimeException e) {
                    LOG.warn("{} on {} failed", what, node, e);
                    result = onFailure.apply(e);
                }
                T done = result;
                try {
                    controller.execute(() -> {
                        pending.merge(node, -1, Integer::sum);
                        then.accept(done);
                    });
                } catch (RejectedExecutionException e) {
                    LOG.debug("{} on {} ended after the controller closed; its result is dropped", what, node);
                }
            });
        } catch (RejectedExecutionException e) {
            pending.merge(node, -1, Integer::sum); // closing
        }
    }

    @Override
    public void close() {
        queues.values().forEach(ExecutorService::shutdownNow);
    }
}
