package io.asfc.agent.testing;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Lifetimes;
import io.asfc.common.testing.StandIn;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Two witnesses of S1 over the stand-ins of one test. The exact one is the kernel's: the stand-ins' lifetime lock
 * ({@link Lifetimes}), which sees any overlap of two scheduler processes, however short. The second opinion samples
 * the process table every {@link #PERIOD} and counts the samples with two or more scheduler main processes (two of one
 * node count as two), and how long the overlap lasted, from its first such sample to its last.
 *
 * <p>It fails loudly: {@link #overlapping()} throws {@link AssertionError} when it cannot vouch for what it saw
 * (a sample that threw, no sample at all, or a gap between two samples over {@link #MAX_GAP}), never a silent 0.
 */
public final class OverlapObserver implements Closeable {
    public static final Duration PERIOD = Duration.ofMillis(10);
    /**
     * The longest time between two samples the sampler may take before its result is void: it has stalled or died.
     * Not 10 periods: on a loaded two-core machine a healthy sampler misses 100-500 ms now and then (JIT, GC, the
     * agents' own threads; one /proc scan of SupervisionIT's took 502 ms), and a test must not fail on that.
     * Exactness does not depend on it: the lifetime lock sees every overlap, however short; the sampler is the second
     * opinion.
     */
    public static final Duration MAX_GAP = Duration.ofSeconds(1);

    private final Supplier<List<ProcessInfo>> scan;
    private final Lifetimes lifetimes;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "overlap-observer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger samples = new AtomicInteger();
    private final AtomicInteger overlapping = new AtomicInteger();
    private final AtomicReference<String> firstOverlap = new AtomicReference<>();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private final AtomicLong firstNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();
    private final AtomicLong previousSampleNanos = new AtomicLong();
    private final AtomicLong longestGapNanos = new AtomicLong();
    private final long startNanos = System.nanoTime();

    public OverlapObserver(StandIn standIn) {
        this(() -> standIn.mainProcesses(ProcessTable.snapshot()), standIn.lifetimes());
    }

    /** @param scan the scheduler main processes now (a seam: a test of the observer injects a failing one) */
    public OverlapObserver(Supplier<List<ProcessInfo>> scan, Lifetimes lifetimes) {
        this.scan = scan;
        this.lifetimes = lifetimes;
        sampler.scheduleAtFixedRate(this::sample, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void sample() {
        try {
            long began = System.nanoTime();
            long previous = previousSampleNanos.getAndSet(began);
            if (previous != 0) {
                longestGapNanos.accumulateAndGet(began - previous, Math::max);
            }
            lifetimes.poll();
            List<ProcessInfo> mains = scan.get();
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
        } catch (IOException | RuntimeException | Error e) {
            // Kept, and fatal to the result (see verify); a scheduled task that threw would never run again.
            error.compareAndSet(null, e);
        }
    }

    /** How many samples were taken (the sampler's work; see {@link #overlapping()} for the checked figure). */
    public int samples() {
        return samples.get();
    }

    /**
     * How many overlaps the witnesses saw: overlaps of scheduler lifetimes by the lock, plus samples with two
     * schedulers. Throws {@link AssertionError} when the observer cannot vouch for a 0.
     */
    public int overlapping() {
        verify();
        return lifetimes.overlapsSince(startNanos).size() + overlapping.get();
    }

    /** The exact time with two scheduler processes alive, by the lifetime lock, in ms. */
    public long lifetimeOverlapMillis() {
        verify();
        return lifetimes.overlapMillisSince(startNanos);
    }

    /** From the first sample with two schedulers to the last one, in ms (0: none). */
    public long overlapMillis() {
        return overlapping.get() == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(lastNanos.get() - firstNanos.get());
    }

    /** The sampler's own overlap count (the second opinion), unchecked. */
    public int overlappingSamples() {
        return overlapping.get();
    }

    /** Throws {@link AssertionError} when a sample failed, none was taken, or two were over {@link #MAX_GAP} apart. */
    public void verify() {
        try {
            lifetimes.poll();
        } catch (IOException | RuntimeException e) {
            error.compareAndSet(null, e);
        }
        Throwable e = error.get();
        if (e != null) {
            throw new AssertionError("the overlap observer failed, so it cannot vouch for S1: " + describe(), e);
        }
        if (samples.get() == 0) {
            throw new AssertionError("the overlap observer took no sample: " + describe());
        }
        long sinceLast = System.nanoTime() - previousSampleNanos.get();
        if (sinceLast > MAX_GAP.toNanos()) {
            longestGapNanos.accumulateAndGet(sinceLast, Math::max); // the sampler stalled or stopped
        }
        if (longestGapNanos.get() > MAX_GAP.toNanos()) {
            throw new AssertionError("the overlap observer went " + longestGapNanos.get() / 1_000_000
                    + " ms without a sample (over " + MAX_GAP.toMillis() + " ms): " + describe());
        }
    }

    public String describe() {
        Throwable e = error.get();
        return overlapping.get() + " of " + samples.get() + " samples had two schedulers"
                + (firstOverlap.get() == null
                        ? ""
                        : ", first " + firstOverlap.get() + ", over " + overlapMillis() + "ms from first to last")
                + ", longest gap between samples " + longestGapNanos.get() / 1_000_000 + " ms"
                + (e == null ? "" : ", failed: " + e)
                + "; " + lifetimes.describeSince(startNanos);
    }

    @Override
    public void close() {
        sampler.shutdownNow();
        try {
            sampler.awaitTermination(5, TimeUnit.SECONDS);
            lifetimes.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
