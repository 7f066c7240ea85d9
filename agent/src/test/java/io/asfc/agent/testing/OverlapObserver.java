package io.asfc.agent.testing;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Lifetimes;
import io.asfc.common.testing.ProcessSampler;
import io.asfc.common.testing.StandIn;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Two witnesses of S1 over the stand-ins of one test. The exact one is the kernel's: the stand-ins' lifetime lock
 * ({@link Lifetimes}), which sees any overlap of two scheduler processes, however short. The second opinion samples
 * the process table every {@link #PERIOD}, outside this JVM ({@link ProcessSampler}), and counts the samples with two
 * or more scheduler main processes (two of one node count as two), and how long the overlap lasted, from its first
 * such sample to its last.
 *
 * <p>It fails loudly: {@link #overlapping()} throws {@link AssertionError} when it cannot vouch for what it saw
 * (a sample that could not be taken or read, no sample at all, or a gap between two samples over {@link #MAX_GAP}),
 * never a silent 0.
 */
public final class OverlapObserver implements Closeable {
    public static final Duration PERIOD = Duration.ofMillis(10);
    /**
     * The longest time between two samples (by the sampler's clock) before the result is void: the sampler stalled
     * or died, and an overlap could have hidden in between.
     */
    public static final Duration MAX_GAP = Duration.ofMillis(100);
    /** How long {@link #verify} waits for the samples taken before it to be read. */
    private static final Duration PATIENCE = Duration.ofSeconds(5);

    private final Function<ProcessTable, List<ProcessInfo>> mains;
    private final Lifetimes lifetimes;
    private final ProcessSampler sampler;
    private final AtomicInteger overlapping = new AtomicInteger();
    private final AtomicReference<String> firstOverlap = new AtomicReference<>();
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private final AtomicLong firstNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();
    private final long startNanos = System.nanoTime();

    public OverlapObserver(StandIn standIn) {
        this(standIn::mainProcesses, List.of(standIn.marker()), standIn.lifetimes(), List.of());
    }

    /**
     * @param mains the scheduler main processes of a sample (a seam: a test of the observer injects a failing one)
     * @param matches what the command lines of the processes to sample contain
     * @param samplerOptions extra options for the sampling script (a test of the observer injects a stall)
     */
    public OverlapObserver(
            Function<ProcessTable, List<ProcessInfo>> mains,
            List<String> matches,
            Lifetimes lifetimes,
            List<String> samplerOptions) {
        this.mains = mains;
        this.lifetimes = lifetimes;
        this.sampler = ProcessSampler.start(matches, PERIOD, samplerOptions, this::sample);
    }

    private void sample(ProcessSampler.Sample sample) {
        try {
            lifetimes.poll(); // each new scheduler's death is awaited from now on, so its lifetime ends on time
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<ProcessInfo> now = mains.apply(sample.table()); // throws: kept by the sampler, fatal to the result
        if (now.size() > 1) {
            if (overlapping.getAndIncrement() == 0) {
                firstNanos.set(sample.atNanos());
            }
            lastNanos.set(sample.atNanos());
            firstOverlap.compareAndSet(
                    null,
                    now.stream()
                            .map(p -> StandIn.node(p) + " (pid " + p.pid() + ")")
                            .sorted()
                            .toList()
                            .toString());
        }
    }

    /** How many samples were taken (the sampler's work; see {@link #overlapping()} for the checked figure). */
    public int samples() {
        return (int) sampler.samples();
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

    /**
     * Throws {@link AssertionError} when a sample failed, none was taken, two were over {@link #MAX_GAP} apart, or
     * the lifetime journal could not be read.
     */
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
        try {
            sampler.verify(MAX_GAP, PATIENCE);
        } catch (AssertionError failed) {
            throw new AssertionError("the overlap observer: " + failed.getMessage() + "; " + describe(), failed);
        }
    }

    public String describe() {
        Throwable e = error.get();
        return overlapping.get() + " of " + sampler.samples() + " samples had two schedulers"
                + (firstOverlap.get() == null
                        ? ""
                        : ", first " + firstOverlap.get() + ", over " + overlapMillis() + "ms from first to last")
                + "; " + sampler.describe()
                + (e == null ? "" : ", failed: " + e)
                + "; " + lifetimes.describeSince(startNanos);
    }

    @Override
    public void close() {
        sampler.close();
        try {
            lifetimes.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
