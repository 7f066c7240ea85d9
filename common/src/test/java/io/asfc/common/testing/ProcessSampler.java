package io.asfc.common.testing;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The process samples of the S1 observers, taken outside the test's JVM by {@code proc_sampler.py} (real-time priority
 * when allowed): a sampler thread inside the JVM stops whenever the JVM does, and gaps of 100-600 ms were seen on the
 * loaded two-core machine, long enough to hide an overlap. The script's timestamps are CLOCK_MONOTONIC, the clock of
 * {@link System#nanoTime()}, so a sample read late here is still dated when it was taken.
 *
 * <p>One thread reads the script's output and hands each sample, in order, to the consumer. Anything that goes wrong
 * is kept and makes {@link #verify} fail: the script reported an error or exited, a line did not parse, the consumer
 * threw, no sample came, or two samples were more than the allowed gap apart (by the script's own clock).
 */
public final class ProcessSampler implements Closeable {
    public static final Path SCRIPT = StandIn.SCRIPT.resolveSibling("proc_sampler.py");

    /**
     * A process the script reported: what {@link ProcessTable} knows, its argv (NUL-separated) and its PID namespace
     * ({@code pid:[4026531836]}, the link {@code /proc/<pid>/ns/pid}; "-" if it could not be read).
     */
    public record Proc(ProcessInfo info, String argv, String pidNamespace) {}

    /**
     * One scan of the script: when it began (System.nanoTime() clock), how long it took, and the matching processes it
     * saw.
     */
    public record Sample(long atNanos, long tookNanos, Map<Long, Proc> processes) {
        /** The live (non-zombie) processes as a {@link ProcessTable}. */
        public ProcessTable table() {
            return ProcessTable.of(processes.values().stream()
                    .map(Proc::info)
                    .filter(p -> !p.isZombie())
                    .toList());
        }
    }

    private final Process process;
    private final Thread reader;
    private final Consumer<Sample> consumer;
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong firstNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();
    private final AtomicLong longestGapNanos = new AtomicLong();
    private final AtomicLong longestGapAtNanos = new AtomicLong();
    /** The most reads of /proc a sample ended without (blocked on the process's memory map; see the script). */
    private final AtomicLong mostWaiting = new AtomicLong();

    private final AtomicReference<String> policy = new AtomicReference<>("?");
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private final long startedNanos = System.nanoTime();
    private volatile boolean closing;

    private ProcessSampler(List<String> command, Consumer<Sample> consumer) throws IOException {
        this.consumer = consumer;
        this.process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        this.reader = new Thread(this::read, "process-sampler-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts sampling, every {@code period}, the processes whose command line contains one of {@code matches}; each
     * sample goes to {@code consumer} on the reader's thread.
     */
    public static ProcessSampler start(List<String> matches, Duration period, Consumer<Sample> consumer) {
        return start(matches, period, List.of(), consumer);
    }

    /** As {@link #start(List, Duration, Consumer)}, with extra options for the script (its tests inject stalls). */
    public static ProcessSampler start(
            List<String> matches, Duration period, List<String> options, Consumer<Sample> consumer) {
        List<String> command = new ArrayList<>(
                List.of(StandIn.PYTHON, "-u", SCRIPT.toString(), "--period-ms", Long.toString(period.toMillis())));
        matches.forEach(m -> command.addAll(List.of("--match", m)));
        command.addAll(options);
        try {
            return new ProcessSampler(command, consumer);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the process sampler " + command + ": " + e, e);
        }
    }

    private void read() {
        Map<Long, Proc> current = new HashMap<>();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ", 9);
                switch (f[0]) {
                    case "H" -> policy.set(f[2]);
                    case "P" -> current.put(Long.parseLong(f[1]), proc(f));
                    case "X" -> current.remove(Long.parseLong(f[1]));
                    case "S" -> {
                        mostWaiting.accumulateAndGet(Long.parseLong(f[3]), Math::max);
                        sampled(Long.parseLong(f[1]), Long.parseLong(f[2]), Map.copyOf(current));
                    }
                    case "E" -> throw new IllegalStateException("the process sampler failed: " + line.substring(2));
                    default -> throw new IllegalStateException("the process sampler wrote an unknown line: " + line);
                }
            }
            if (!closing) {
                throw new IllegalStateException("the process sampler exited (" + exitCode() + ")");
            }
        } catch (IOException | RuntimeException | Error e) {
            if (!closing) {
                error.compareAndSet(null, e);
            }
        }
    }

    private static Proc proc(String[] f) {
        long pid = Long.parseLong(f[1]);
        String argv = new String(HexFormat.of().parseHex(f[8]), StandardCharsets.UTF_8);
        ProcessInfo info = new ProcessInfo(
                pid,
                Long.parseLong(f[2]),
                Long.parseLong(f[3]),
                Long.parseLong(f[4]),
                f[5].charAt(0),
                Long.parseLong(f[6]),
                argv.replace('\0', ' ').trim());
        return new Proc(info, argv, f[7]);
    }

    private void sampled(long at, long ended, Map<Long, Proc> processes) {
        long previous = lastNanos.getAndSet(at);
        if (previous == 0) {
            firstNanos.set(at);
        } else if (at - previous > longestGapNanos.get()) {
            longestGapNanos.set(at - previous);
            longestGapAtNanos.set(previous);
        }
        samples.incrementAndGet();
        consumer.accept(new Sample(at, ended - at, processes)); // a consumer that throws ends the reading: see verify
    }

    private String exitCode() {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? "exit code " + process.exitValue() : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    public long samples() {
        return samples.get();
    }

    /** The longest time between two consecutive samples, by the sampler's clock. */
    public Duration longestGap() {
        return Duration.ofNanos(longestGapNanos.get());
    }

    /**
     * Throws {@link AssertionError} unless the sampler watched the whole time: it failed or exited, took no sample,
     * took two samples more than {@code maxGap} apart, or has taken none for {@code maxGap} since its last (it is
     * waited for up to {@code patience}: the samples may be read late, but they must come).
     */
    public void verify(Duration maxGap, Duration patience) {
        long asked = System.nanoTime();
        long deadline = asked + patience.toNanos();
        while (error.get() == null && lastNanos.get() < asked - maxGap.toNanos() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Throwable e = error.get();
        if (e != null) {
            throw new AssertionError("the process sampler failed, so it cannot vouch for S1: " + describe(), e);
        }
        if (samples.get() == 0) {
            throw new AssertionError("the process sampler took no sample: " + describe());
        }
        if (lastNanos.get() < asked - maxGap.toNanos()) {
            throw new AssertionError("the process sampler took no sample in the last " + maxGap.toMillis()
                    + " ms (it stalled or died): " + describe());
        }
        if (longestGapNanos.get() > maxGap.toNanos()) {
            throw new AssertionError("the process sampler went " + longestGapNanos.get() / 1_000_000
                    + " ms without a sample (over " + maxGap.toMillis() + " ms), from +"
                    + (longestGapAtNanos.get() - startedNanos) / 1_000_000 + " ms: " + describe());
        }
    }

    /** One line: samples, longest gap, priority, the error if any. */
    public String describe() {
        Throwable e = error.get();
        return samples.get() + " samples by " + SCRIPT.getFileName() + " (priority " + policy.get()
                + "), longest gap " + longestGapNanos.get() / 1_000_000 + " ms, at most " + mostWaiting.get()
                + " reads still waiting at a sample's end"
                + (e == null ? "" : ", failed: " + e);
    }

    @Override
    public void close() {
        closing = true;
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
