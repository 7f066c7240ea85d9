package io.asfc.agent.testing;

import io.asfc.common.process.ProcessTable;
import java.io.Closeable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Samples the process table every 10 ms and counts the samples with two or more schedulers. */
public final class OverlapObserver implements Closeable {
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger samples = new AtomicInteger();
    private final AtomicInteger overlapping = new AtomicInteger();
    private final AtomicReference<String> firstOverlap = new AtomicReference<>();

    public OverlapObserver(StandIn standIn) {
        sampler.scheduleAtFixedRate(
                () -> {
                    var mains = standIn.mains(ProcessTable.snapshot());
                    samples.incrementAndGet();
                    if (mains.size() > 1) {
                        overlapping.incrementAndGet();
                        firstOverlap.compareAndSet(null, mains.keySet().toString());
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

    public String describe() {
        return overlapping.get() + " of " + samples.get() + " samples had two schedulers"
                + (firstOverlap.get() == null ? "" : ", first on " + firstOverlap.get());
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
