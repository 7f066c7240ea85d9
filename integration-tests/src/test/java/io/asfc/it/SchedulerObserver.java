package io.asfc.it;

import io.asfc.common.testing.Lifetimes;
import io.asfc.it.StandinProcesses.Scan;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Samples this test's stand-in schedulers from /proc on a thread of its own, every {@link #INTERVAL}, for as long as
 * the test class runs, and keeps every sample. It is the witness for S1: a sample in which two nodes (or two main
 * processes, or the processes of two scheduler sessions) are alive at once is an overlap.
 */
final class SchedulerObserver implements AutoCloseable {

    /** The pause between the end of one sample and the start of the next. */
    static final Duration INTERVAL = Duration.ofMillis(20);
    /** The sampling period the test promises; longer gaps are counted and reported. */
    static final Duration PROMISED_PERIOD = Duration.ofMillis(50);
    /**
     * A gap between two samples longer than this voids the observer's result ({@link #verify}): it stalled or died.
     * Not ten promised periods: on the loaded two-core machine one scan of /proc took up to 502 ms and two samples were
     * 526 ms apart (a run of 2026-12-07), and the exact witness is the lifetime lock anyway; the sampler is the second
     * opinion.
     */
    static final Duration MAX_GAP = Duration.ofSeconds(1);

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
    private final ScheduledExecutorService sampler;
    private final List<Sample> samples = new ArrayList<>();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<Throwable> lastError = new AtomicReference<>();

    private SchedulerObserver(String marker, Lifetimes lifetimes) {
        this.marker = marker;
        this.lifetimes = lifetimes;
        this.sampler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "supervision-it-observer");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Starts sampling the processes whose command line contains {@code marker}, and reading the journal of the
     * stand-ins' lifetime lock {@code lifetimeLock} (their {@code --lifetime-lock}).
     */
    static SchedulerObserver start(String marker, Path lifetimeLock) {
        SchedulerObserver observer = new SchedulerObserver(marker, new Lifetimes(lifetimeLock));
        observer.sampler.scheduleWithFixedDelay(observer::sample, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        return observer;
    }

    private void sample() {
        try {
            long began = System.nanoTime();
            lifetimes.poll();
            Scan scan = StandinProcesses.scan(marker);
            synchronized (samples) {
                samples.add(new Sample(samples.size(), began, scan));
            }
        } catch (Exception | Error e) {
            // Counted, reported, and fatal to the result (verify); a scheduled task that threw would never run again.
            errors.incrementAndGet();
            lastError.set(e);
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

    /** The median and the longest time one scan of /proc took, in ms. */
    String scanTimes() {
        long[] took = samples().stream()
                .mapToLong(s -> s.scan().atNanos() - s.beganNanos())
                .sorted()
                .toArray();
        return took.length == 0
                ? "no scans"
                : "median " + took[took.length / 2] / 1_000 + " us, longest " + took[took.length - 1] / 1_000_000
                        + " ms";
    }

    long errors() {
        return errors.get();
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
     * Throws {@link AssertionError} when the observer cannot vouch for what it saw: a scan failed, none was taken, the
     * lifetime lock recorded no start, or two samples (or the last one and now) were over {@link #MAX_GAP} apart.
     */
    void verify() throws IOException {
        lifetimes.poll();
        List<Sample> all = samples();
        String problem = null;
        if (errors.get() > 0) {
            problem = errors.get() + " scans failed (last: " + lastError.get() + ")";
        } else if (all.isEmpty()) {
            problem = "it took no sample";
        } else if (lifetimes.starts() == 0) {
            problem = "the lifetime lock recorded no scheduler start (the stand-ins ran without --lifetime-lock?)";
        } else {
            long sinceLast = System.nanoTime() - all.get(all.size() - 1).scan().atNanos();
            long longest = Math.max(longestGap().toNanos(), sinceLast);
            if (longest > MAX_GAP.toNanos()) {
                problem =
                        "it went " + longest / 1_000_000 + " ms without a sample (over " + MAX_GAP.toMillis() + " ms)";
            }
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
        Throwable error = lastError.get();
        return "--- observer: " + all.size() + " samples, longest gap "
                + longestGap().toMillis() + " ms, "
                + errors.get() + " failed scans" + (error == null ? "" : " (last: " + error + ")") + "; "
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
        sampler.shutdownNow();
        try {
            sampler.awaitTermination(5, TimeUnit.SECONDS);
            lifetimes.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
