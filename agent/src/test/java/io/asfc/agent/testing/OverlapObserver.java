package io.asfc.agent.testing;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.StandIn;
import java.io.Closeable;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Samples the process table every 10 ms and counts the samples with two or more scheduler main
 * processes (two of one node count as two), and how long the overlap lasted: from its first such
 * sample to its last.
 */
public final class OverlapObserver implements Closeable {
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger samples = new AtomicInteger();
    private final AtomicInteger overlapping = new AtomicInteger();
    private final AtomicReference<String> firstOverlap = new AtomicReference<>();
    private final AtomicLong firstNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();

    public OverlapObserver(StandIn standIn) {
        sampler.scheduleAtFixedRate(
                () -> {
                    List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
                    samples.incrementAndGet();
                    if (mains.size() > 1) {
                        long now = System.nanoTime();
                        if (overlapping.getAndIncrement() == 0) {
                            firstNanos.set(now);
                        }
                        lastNanos.set(now);
                        firstOverlap.compareAndSet(
                                null,
                                mains.stream()
                                        .map(p -> StandIn.node(p) + " (pid " + p.pid() + ")")
                                        .sorted()
                                        .toList()
                                        .toString());
                    }
                },
                0,
                10,
                TimeUnit.MILLISECONDS);
    }

    public int samples() {
        return samples.get();
    }

    public int overlapping() {
        return overlapping.get();
    }

    /** From the first sample with two schedulers to the last one, in ms (0: none). */
    public long overlapMillis() {
        return overlapping.get() == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(lastNanos.get() - firstNanos.get());
    }

    public String describe() {
        return overlapping.get() + " of " + samples.get() + " samples had two schedulers"
                + (firstOverlap.get() == null
                        ? ""
                        : ", first " + firstOverlap.get() + ", over " + overlapMillis() + "ms from first to last");
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
