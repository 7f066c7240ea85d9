package io.asfc.common.concurrent;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Named daemon threads that carry the node id in MDC and log what they fail with. */
public final class Threads {
    private static final Logger LOG = LoggerFactory.getLogger(Threads.class);

    /** The MDC key of the node id, shown by the logback pattern. */
    public static final String MDC_NODE = "node";

    private Threads() {}

    /**
     * @param nameFormat e.g. {@code asfc-election-%d}
     * @param nodeId put into MDC on every thread
     */
    public static ThreadFactory factory(String nameFormat, String nodeId) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(
                    () -> {
                        MDC.put(MDC_NODE, nodeId);
                        runnable.run();
                    },
                    String.format(nameFormat, count.getAndIncrement()));
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((t, e) -> LOG.error("uncaught exception in {}", t.getName(), e));
            return thread;
        };
    }

    /**
     * One thread, started when a task comes and ended after {@code idle} without one: for a concern
     * that is idle most of the time (the event log's writes), so that an idle agent has no thread
     * for it. Tasks run one at a time, in order.
     */
    public static ThreadPoolExecutor idleEnding(String nameFormat, String nodeId, Duration idle) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(
                1, 1, idle.toMillis(), TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), factory(nameFormat, nodeId));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /**
     * As {@link #idleEnding}, for delayed tasks too: the thread stays while one is pending (the
     * connection log's reminders while ZooKeeper is away) and ends {@code idle} after the last.
     */
    public static ScheduledThreadPoolExecutor idleEndingScheduled(String nameFormat, String nodeId, Duration idle) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, factory(nameFormat, nodeId));
        executor.setKeepAliveTime(idle.toMillis(), TimeUnit.MILLISECONDS);
        executor.allowCoreThreadTimeOut(true);
        executor.setRemoveOnCancelPolicy(true); // a cancelled reminder does not keep the thread
        return executor;
    }

    /** Restores the interrupt flag when {@code e} is an interruption; the first line of a broad catch. */
    public static void checkInterrupted(Throwable e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
    }
}
