package io.asfc.agent.hooks;

import io.asfc.common.concurrent.Threads;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon thread of a sink and its bounded queue of events: {@link #offer} never blocks; when
 * the queue is full the oldest waiting event is dropped and handed to {@code onDrop}.
 */
final class SinkQueue {
    private static final Logger LOG = LoggerFactory.getLogger(SinkQueue.class);

    private final String name;
    private final BlockingQueue<Runnable> queue;
    private final ExecutorService executor;
    private final Consumer<HookEvent> onDrop;

    /**
     * @param name names the sink in logs and its thread ({@code asfc-hook-<name>-N})
     * @param onDrop told of every event dropped because the queue was full
     */
    SinkQueue(String name, String nodeId, int capacity, Consumer<HookEvent> onDrop) {
        this.name = name;
        this.onDrop = onDrop;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.executor = new ThreadPoolExecutor(
                1, 1, 0, TimeUnit.MILLISECONDS, queue, Threads.factory("asfc-hook-" + name + "-%d", nodeId));
    }

    /** Queues {@code work} for {@code event}; drops the oldest waiting event when full. Never blocks. */
    void offer(HookEvent event, Consumer<HookEvent> work) {
        Task task = new Task(event, work);
        while (!executor.isShutdown()) {
            try {
                executor.execute(task);
                return;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the queue is full (or the sink closed): make room by dropping the oldest, then try again
                if (executor.isShutdown()) {
                    break;
                }
                if (queue.poll() instanceof Task oldest) {
                    LOG.warn("{} hook queue full: dropped event {}", name, oldest.event.type());
                    onDrop.accept(oldest.event);
                }
            }
        }
        LOG.warn("{} hook closed: event {} not handled", name, event.type());
    }

    /** Lets queued work run for at most {@code bound}, then interrupts what still runs. */
    void close(Duration bound) {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                int left = executor.shutdownNow().size();
                LOG.warn("{} hook: {} event(s) left unhandled on close", name, left);
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private record Task(HookEvent event, Consumer<HookEvent> work) implements Runnable {
        @Override
        public void run() {
            work.accept(event);
        }
    }
}
