package io.asfc.common.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The kernel's account of S1: reads the journal that the stand-in scheduler's main processes keep when started with
 * {@code --lifetime-lock FILE} (see {@code lifetime_lock} in {@code airflow_standin.py}). Each main process locks byte
 * 0 of {@code FILE} (a POSIX record lock) as its first act and holds it until the kernel drops it at its death; one
 * that finds the byte taken journals {@code waiting}: another scheduler process is alive at that instant, which no
 * sampling can miss. Its overlap ends when it gets the lock ({@code acquired}: the other one is gone) or when it dies
 * first, which this class learns by waiting, on a thread of its own, for the byte that process holds for its life.
 *
 * <p>Whether there was an overlap is exact. Its length is exact in its start (the waiting process's clock, {@code
 * CLOCK_MONOTONIC}, the clock of {@link System#nanoTime}) and at most a wake-up late in its end (the time a blocked
 * thread takes to run after the kernel released the lock), so never shorter than the truth. Not covered: a process's
 * first tens of milliseconds, between its fork and the first statement of the stand-in (the interpreter's start-up).
 */
public final class Lifetimes implements Closeable {

    /**
     * One stretch with two or more scheduler processes alive, seen by the process that found the lock taken.
     *
     * @param toNanos when it ended ({@link System#nanoTime}), or -1 while it lasts
     */
    public record Overlap(long pid, String host, long fromNanos, long toNanos, String end) {
        long toOr(long nowNanos) {
            return toNanos < 0 ? nowNanos : toNanos;
        }

        @Override
        public String toString() {
            return host + " (pid " + pid + ") started while another scheduler ran"
                    + (toNanos < 0
                            ? ", still waiting"
                            : ", for " + (toNanos - fromNanos) / 1_000_000 + " ms (" + end + ")");
        }
    }

    private final Path lock;
    private final Path journal;
    private final List<String> lines = new ArrayList<>();
    /** The overlaps, by the slot of the waiting process. */
    private final Map<Long, Overlap> overlaps = new LinkedHashMap<>();

    private final List<Thread> waiters = new ArrayList<>();
    private FileChannel channel;
    private int starts;
    private boolean closed;

    /** @param lock the file passed to every stand-in as {@code --lifetime-lock} */
    public Lifetimes(Path lock) {
        this.lock = lock;
        this.journal = lock.resolveSibling(lock.getFileName() + ".journal");
    }

    /** The journal's new lines: each {@code held|waiting|acquired pid host slot monotonic-ns}. */
    public synchronized void poll() throws IOException {
        if (closed || !Files.exists(journal)) {
            return;
        }
        String text = Files.readString(journal, StandardCharsets.UTF_8);
        String[] all = text.substring(0, text.lastIndexOf('\n') + 1).split("\n");
        for (int i = lines.size(); i < all.length && !all[i].isEmpty(); i++) {
            lines.add(all[i]);
            read(all[i].split(" "));
        }
    }

    private void read(String[] w) throws IOException {
        if (w.length != 5) {
            throw new IOException(journal + ": not a lifetime record: " + String.join(" ", w));
        }
        long pid = Long.parseLong(w[1]);
        long slot = Long.parseLong(w[3]);
        long at = Long.parseLong(w[4]);
        switch (w[0]) {
            case "held" -> starts++;
            case "waiting" -> {
                starts++;
                overlaps.put(slot, new Overlap(pid, w[2], at, -1, ""));
                awaitDeath(slot);
            }
            case "acquired" -> end(slot, at, "the other scheduler process ended");
            default -> throw new IOException(journal + ": not a lifetime record: " + String.join(" ", w));
        }
    }

    private synchronized void end(long slot, long atNanos, String how) {
        Overlap o = overlaps.get(slot);
        if (o != null && o.toNanos() < 0) {
            overlaps.put(slot, new Overlap(o.pid(), o.host(), o.fromNanos(), atNanos, how));
        }
    }

    /**
     * Waits for the byte that a waiting process holds while it lives: when the kernel drops it, that process is gone.
     * A shared lock, so it never stands in the way of anything the stand-ins do with their exclusive ones.
     */
    private void awaitDeath(long slot) throws IOException {
        if (channel == null) {
            channel = FileChannel.open(lock, StandardOpenOption.READ);
        }
        FileChannel ch = channel;
        Thread t = new Thread(
                () -> {
                    try (FileLock ignored = ch.lock(slot, 1, true)) {
                        end(slot, System.nanoTime(), "it ended while it waited");
                    } catch (ClosedChannelException | FileLockInterruptionException e) {
                        // closed: the test is over
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(lock + ": waiting for slot " + slot, e);
                    }
                },
                "lifetimes-slot-" + slot);
        t.setDaemon(true);
        t.start();
        waiters.add(t);
    }

    /** How many scheduler processes started, by the journal (a witness that saw none proves nothing). */
    public synchronized int starts() {
        return starts;
    }

    /** Every overlap so far. */
    public List<Overlap> overlaps() {
        return overlapsSince(Long.MIN_VALUE);
    }

    /** The overlaps that lasted until {@code nanos} ({@link System#nanoTime}) or later. */
    public List<Overlap> overlapsSince(long nanos) {
        return overlapsBetween(nanos, Long.MAX_VALUE);
    }

    /** The overlaps that lasted into {@code [fromNanos, toNanos]} ({@link System#nanoTime}; MIN/MAX_VALUE: open). */
    public synchronized List<Overlap> overlapsBetween(long fromNanos, long toNanos) {
        long now = System.nanoTime();
        return overlaps.values().stream()
                .filter(o -> fromNanos == Long.MIN_VALUE || o.toOr(now) - fromNanos >= 0)
                .filter(o -> toNanos == Long.MAX_VALUE || toNanos - o.fromNanos() >= 0)
                .toList();
    }

    /** The time with two or more scheduler processes alive, in ms: the union of the overlaps (open ones until now). */
    public long overlapMillis() {
        return overlapMillisBetween(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** {@link #overlapMillis()} from {@code nanos} on. */
    public long overlapMillisSince(long nanos) {
        return overlapMillisBetween(nanos, Long.MAX_VALUE);
    }

    /** {@link #overlapMillis()} within {@code [fromNanos, toNanos]}. */
    public synchronized long overlapMillisBetween(long fromNanos, long toNanos) {
        long now = System.nanoTime();
        long end = toNanos == Long.MAX_VALUE ? now : toNanos;
        List<Overlap> sorted = overlapsBetween(fromNanos, toNanos).stream()
                .sorted(Comparator.comparingLong(Overlap::fromNanos))
                .toList();
        long total = 0;
        long reach = fromNanos;
        for (Overlap o : sorted) {
            long from = fromNanos == Long.MIN_VALUE ? Math.max(o.fromNanos(), reach) : later(o.fromNanos(), reach);
            long to = earlier(o.toOr(now), end);
            if (to - from > 0) {
                total += to - from;
            }
            reach = reach == Long.MIN_VALUE ? to : later(reach, to);
        }
        return TimeUnit.NANOSECONDS.toMillis(total);
    }

    /** The later of two System.nanoTime() values (compared by difference, as nanoTime may wrap). */
    private static long later(long a, long b) {
        return a - b >= 0 ? a : b;
    }

    private static long earlier(long a, long b) {
        return a - b <= 0 ? a : b;
    }

    public String describe() {
        return describeSince(Long.MIN_VALUE);
    }

    /** A summary of the overlaps since {@code nanos}, for failure messages. */
    public synchronized String describeSince(long nanos) {
        List<Overlap> seen = overlapsSince(nanos);
        return "lifetime lock " + lock + ": " + starts + " scheduler starts, "
                + (seen.isEmpty()
                        ? "no overlap"
                        : seen.size() + " overlaps, " + overlapMillisSince(nanos) + " ms in all: "
                                + seen.stream().map(Overlap::toString).collect(Collectors.joining("; ")));
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (channel != null) {
            channel.close(); // wakes the waiters
        }
        waiters.forEach(Thread::interrupt);
    }
}
