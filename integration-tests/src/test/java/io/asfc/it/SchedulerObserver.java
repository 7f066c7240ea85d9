package io.asfc.it;

import io.asfc.common.testing.Lifetimes;
import io.asfc.common.testing.ProcessSampler;
import io.asfc.it.StandinProcesses.Scan;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Samples this test's stand-in schedulers every {@link #INTERVAL}, outside this JVM ({@link ProcessSampler}), for as
 * long as the test class runs, and keeps every sample. It is the second witness for S1, beside the stand-ins' lifetime
 * lock: a sample in which two nodes (or two main processes, or the processes of two scheduler sessions) are alive at
 * once is an overlap.
 */
final class SchedulerObserver implements AutoCloseable {

    /** The time between the starts of two samples. */
    static final Duration INTERVAL = Duration.ofMillis(20);
    /** The sampling period the test promises; longer gaps are counted and reported. */
    static final Duration PROMISED_PERIOD = Duration.ofMillis(50);
    /**
     * A gap between two samples (by the sampler's clock) longer than this voids the observer's result ({@link
     * #verify}): it stalled or died, and an overlap could have hidden in between.
     */
    static final Duration MAX_GAP = Duration.ofMillis(100);
    /** How long {@link #verify} waits for the samples taken before it to be read. */
    private static final Duration PATIENCE = Duration.ofSeconds(5);

    /** One sample: its sequence number, when its scan began (System.nanoTime()), and the scan. */
    record Sample(int seq, long beganNanos, Scan scan) {
        /** The nodes that run a main process in this sample. */
        List<String> nodes() {
            return List.copyOf(scan.mainsByNode().keySet());
        }

        @Override
        public String toString() {
            return "#" + seq + " " + scan.describe();
        }
    }

    private final String marker;
    private final Lifetimes lifetimes;
    private final long startNanos = System.nanoTime();
    private final List<Sample> samples = new ArrayList<>();
    private final List<Long> scanNanos = new ArrayList<>();
    private ProcessSampler sampler;

    private SchedulerObserver(String marker, Lifetimes lifetimes) {
        this.marker = marker;
        this.lifetimes = lifetimes;
    }

    /**
     * Starts sampling the processes whose command line contains {@code marker}, and reading the journal of the
     * stand-ins' lifetime lock {@code lifetimeLock} (their {@code --lifetime-lock}).
     */
    static SchedulerObserver start(String marker, Path lifetimeLock) {
        SchedulerObserver observer = new SchedulerObserver(marker, new Lifetimes(lifetimeLock));
        observer.sampler = ProcessSampler.start(List.of(marker), INTERVAL, observer::sample);
        return observer;
    }

    private void sample(ProcessSampler.Sample taken) {
        try {
            lifetimes.poll(); // each new scheduler's death is awaited from now on, so its lifetime ends on time
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // kept by the sampler, fatal to the result (verify)
        }
        Scan scan = StandinProcesses.scan(taken, marker);
        synchronized (samples) {
            samples.add(new Sample(samples.size(), taken.atNanos(), scan));
            scanNanos.add(taken.tookNanos());
        }
    }

    /** A fresh scan, taken on the caller's thread (not recorded as a sample). */
    Scan scanNow() throws java.io.IOException {
        return StandinProcesses.scan(marker);
    }

    /** Every sample so far. */
    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    /** The sequence number the next sample will have. */
    int nextSeq() {
        synchronized (samples) {
            return samples.size();
        }
    }

    /** The samples from sequence number {@code fromSeq} on. */
    List<Sample> since(int fromSeq) {
        synchronized (samples) {
            return List.copyOf(samples.subList(Math.min(fromSeq, samples.size()), samples.size()));
        }
    }

    /** The first sample from {@code fromSeq} on that satisfies {@code test}. */
    Optional<Sample> first(int fromSeq, Predicate<Sample> test) {
        return since(fromSeq).stream().filter(test).findFirst();
    }

    /** The last sample from {@code fromSeq} on that satisfies {@code test}. */
    Optional<Sample> last(int fromSeq, Predicate<Sample> test) {
        List<Sample> list = since(fromSeq);
        for (int i = list.size() - 1; i >= 0; i--) {
            if (test.test(list.get(i))) {
                return Optional.of(list.get(i));
            }
        }
        return Optional.empty();
    }

    /** Samples in which two or more nodes run a main process: S1 broken across hosts. */
    List<Sample> nodeOverlaps(int fromSeq) {
        return since(fromSeq).stream().filter(s -> s.nodes().size() >= 2).toList();
    }

    /** Samples with two or more main processes, on any nodes (two on one node count too). */
    List<Sample> mainOverlaps(int fromSeq) {
        return since(fromSeq).stream().filter(s -> s.scan().mains().size() >= 2).toList();
    }

    /** Samples with scheduler processes (main or helpers) of two or more sessions: an old tree beside a new one. */
    List<Sample> treeOverlaps(int fromSeq) {
        return since(fromSeq).stream()
                .filter(s -> s.scan().schedulerSessions().size() >= 2)
                .toList();
    }

    /** How many samples saw at least one main process. */
    long samplesWithAScheduler() {
        return samples().stream().filter(s -> !s.scan().mains().isEmpty()).count();
    }

    /** The longest time between the starts of two consecutive samples. */
    Duration longestGap() {
        List<Sample> all = samples();
        long longest = 0;
        for (int i = 1; i < all.size(); i++) {
            longest = Math.max(
                    longest, all.get(i).scan().atNanos() - all.get(i - 1).scan().atNanos());
        }
        return Duration.ofNanos(longest);
    }

    /**
     * How many times two consecutive samples were more than {@link #PROMISED_PERIOD} apart; with {@code
     * whileRunning}, only while a scheduler process was alive (in the sample before or after the gap), when an
     * overlap could have hidden in the gap.
     */
    long gapsOverPromise(boolean whileRunning) {
        List<Sample> all = samples();
        long count = 0;
        for (int i = 1; i < all.size(); i++) {
            Sample before = all.get(i - 1);
            Sample after = all.get(i);
            boolean running = !before.scan().schedulerSessions().isEmpty()
                    || !after.scan().schedulerSessions().isEmpty();
            if (after.scan().atNanos() - before.scan().atNanos() > PROMISED_PERIOD.toNanos()
                    && (running || !whileRunning)) {
                count++;
            }
        }
        return count;
    }

    /** The {@code count} longest gaps between consecutive samples, as "N ms at +T ms", longest first. */
    List<String> longestGaps(int count) {
        List<Sample> all = samples();
        List<long[]> gaps = new ArrayList<>();
        for (int i = 1; i < all.size(); i++) {
            gaps.add(new long[] {
                all.get(i).scan().atNanos() - all.get(i - 1).scan().atNanos(), i
            });
        }
        gaps.sort((x, y) -> Long.compare(y[0], x[0]));
        return gaps.stream()
                .limit(count)
                .map(g -> g[0] / 1_000_000 + " ms at +" + millisAt(all.get((int) g[1] - 1)) + " ms")
                .toList();
    }

    /** The median and the longest time one scan of /proc took (the sampler's own measure). */
    String scanTimes() {
        long[] took;
        synchronized (samples) {
            took = scanNanos.stream().mapToLong(Long::longValue).sorted().toArray();
        }
        return took.length == 0
                ? "no scans"
                : "median " + took[took.length / 2] / 1_000 + " us, longest " + took[took.length - 1] / 1_000_000
                        + " ms";
    }

    /** The sampler's summary: samples, longest gap, its priority, its failure if any. */
    String sampling() {
        return sampler.describe();
    }

    /** The overlaps of scheduler lifetimes since {@code nanos} ({@link System#nanoTime}), by the lifetime lock. */
    List<Lifetimes.Overlap> lifetimeOverlapsSince(long nanos) throws IOException {
        lifetimes.poll();
        return lifetimes.overlapsSince(nanos);
    }

    /** The lifetime lock's summary: starts, overlaps. */
    String lifetimes() {
        return lifetimes.describe();
    }

    /** When {@code seq}'s sample began, or now if it has not been taken. */
    long nanosOf(int seq) {
        synchronized (samples) {
            return seq < samples.size() ? samples.get(seq).beganNanos() : System.nanoTime();
        }
    }

    /**
     * Throws {@link AssertionError} when the observer cannot vouch for what it saw: the sampler failed, took no sample
     * or went over {@link #MAX_GAP} without one (between two samples, or since the last one), or the lifetime lock
     * recorded no start.
     */
    void verify() throws IOException {
        lifetimes.poll();
        String problem = null;
        try {
            sampler.verify(MAX_GAP, PATIENCE);
        } catch (AssertionError e) {
            problem = e.getMessage();
        }
        if (problem == null && lifetimes.starts() == 0) {
            problem = "the lifetime lock recorded no scheduler start (the stand-ins ran without --lifetime-lock?)";
        }
        if (problem != null) {
            throw new AssertionError("the observer cannot vouch for S1: " + problem + "\n" + describe(10));
        }
    }

    /** Milliseconds since the observer started, for reading samples against each other. */
    long millisAt(Sample sample) {
        return (sample.scan().atNanos() - startNanos) / 1_000_000;
    }

    /** The time between two samples. */
    static Duration between(Sample earlier, Sample later) {
        return Duration.ofNanos(later.scan().atNanos() - earlier.scan().atNanos());
    }

    /** A summary and the last {@code count} samples in which something changed, for failure messages. */
    String describe(int count) {
        List<Sample> all = samples();
        List<Sample> changes = new ArrayList<>();
        String previous = null;
        for (Sample s : all) {
            String now = s.scan().describe();
            if (!now.equals(previous)) {
                changes.add(s);
                previous = now;
            }
        }
        List<Sample> shown = changes.subList(Math.max(0, changes.size() - count), changes.size());
        return "--- observer: " + all.size() + " samples, longest gap "
                + longestGap().toMillis() + " ms; " + sampler.describe() + "; "
                + lifetimes.describe()
                + "; the last " + shown.size() + " changes (ms since the observer started):\n"
                + shown.stream().map(s -> "  +" + millisAt(s) + " ms " + s).collect(Collectors.joining("\n"))
                + (all.isEmpty()
                        ? ""
                        : "\n  latest: +" + millisAt(all.get(all.size() - 1)) + " ms " + all.get(all.size() - 1))
                + "\n";
    }

    @Override
    public void close() {
        sampler.close();
        try {
            lifetimes.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
