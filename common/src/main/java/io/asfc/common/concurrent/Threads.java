package io.asfc.common.concurrent;

import java.util.concurrent.ThreadFactory;
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

    /** Restores the interrupt flag when {@code e} is an interruption; the first line of a broad catch. */
    public static void checkInterrupted(Throwable e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
    }
}
