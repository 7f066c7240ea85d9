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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The kernel's account of S1: reads the journal that scheduler main processes keep when they hold the schedulers'
 * lifetime lock ({@code lifetime_lock.py} in {@code integration-tests/src/main/standin}: the stand-in scheduler's
 * {@code --lifetime-lock FILE}, or {@code lifetime_exec.py} in front of a real {@code airflow scheduler}). Each main
 * process, as its first act, holds a byte of its own ("slot") and byte 0 of {@code FILE} (POSIX record locks) until
 * the kernel drops them at its death, and journals whether it found another scheduler process alive at that instant
 * ({@code waiting}), which no sampling can miss. The journal is in the order in which the processes started (they
 * take their locks one at a time). This class waits, on a thread per process, for each journaled slot (a shared
 * lock): when the kernel drops it, that process is gone. The overlap of a waiting process lasts from its start until
 * it dies or every process journaled before it has died, whichever comes first; the union of these overlaps is
 * exactly the time with two or more scheduler processes alive.
 *
 * <p>Whether there was an overlap is exact. Its length is exact in its start (the waiting process's clock, {@code
 * CLOCK_MONOTONIC}, the clock of {@link System#nanoTime}) and at most a wake-up late in its end (the time a blocked
 * thread takes to run after the kernel released the lock), so never shorter than the truth; later still for a process
 * that died before {@link #poll} read its line (its death is then taken as that moment). Not covered: a process's
 * first tens of milliseconds, between its fork and its first statement (the interpreter's start-up).
 */
public final class Lifetimes implements Closeable {

    /**
     * One stretch with two or more scheduler processes alive, seen by the process that found another one alive.
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
                            ? ", still running with it"
                            : ", for " + (toNanos - fromNanos) / 1_000_000 + " ms (" + end + ")");
        }
    }

    /** One journaled scheduler process: its start, and whether it found another one alive then. */
    private record Life(long pid, String host, long slot, long startNanos, boolean waiting) {}

    private final Path lock;
    private final Path journal;
    private final List<String> lines = new ArrayList<>();
    /** Every journaled process, in the order of their starts. */
    private final List<Life> lives = new ArrayList<>();
    /** When each process died ({@link System#nanoTime}), by its slot; absent while it lives. */
    private final Map<Long, Long> deaths = new HashMap<>();

    private final List<Thread> waiters = new ArrayList<>();
    private FileChannel channel;
    private boolean closed;

    /** @param lock the file every scheduler holds its lifetime lock on (the stand-in's {@code --lifetime-lock}) */
    public Lifetimes(Path lock) {
        this.lock = lock;
        this.journal = lock.resolveSibling(lock.getFileName() + ".journal");
    }

    /** The journal's new lines: each {@code held|waiting pid host slot monotonic-ns}. */
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
        if (w.length != 5 || !(w[0].equals("held") || w[0].equals("waiting"))) {
            throw new IOException(journal + ": not a lifetime record: " + String.join(" ", w));
        }
        Life life = new Life(
                Long.parseLong(w[1]), w[2], Long.parseLong(w[3]), Long.parseLong(w[4]), w[0].equals("waiting"));
        lives.add(life);
        awaitDeath(life.slot());
    }

    private synchronized void died(long slot, long atNanos) {
        deaths.putIfAbsent(slot, atNanos);
    }

    /**
     * Waits for the byte that a process holds while it lives: when the kernel drops it, that process is gone. A
     * shared lock, so it never stands in the way of anything the schedulers do with their exclusive ones.
     */
    private void awaitDeath(long slot) throws IOException {
        if (channel == null) {
            channel = FileChannel.open(lock, StandardOpenOption.READ);
        }
        FileChannel ch = channel;
        Thread t = new Thread(
                () -> {
                    try (FileLock ignored = ch.lock(slot, 1, true)) {
                        died(slot, System.nanoTime());
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

    /**
     * The overlap of each waiting process: from its start until it died or every process journaled before it died
     * (those alive at its start are among them; the others died before it started and end nothing later).
     */
    private List<Overlap> computeOverlaps() {
        List<Overlap> overlaps = new ArrayList<>();
        boolean anyBefore = false; // a process was journaled before this one
        boolean oneAlive = false; // one of those lives on
        long lastDeath = 0; // else, the latest of their deaths
        for (Life life : lives) {
            Long own = deaths.get(life.slot());
            if (life.waiting()) {
                // (with nobody before it in the journal, which cannot be as one was alive, it lasts until it dies)
                boolean othersGone = anyBefore && !oneAlive;
                long to = -1;
                String how = "";
                if (othersGone && (own == null || lastDeath - own <= 0)) {
                    to = later(lastDeath, life.startNanos());
                    how = "the other scheduler processes ended";
                } else if (own != null) {
                    to = later(own, life.startNanos());
                    how = "it ended first";
                }
                overlaps.add(new Overlap(life.pid(), life.host(), life.startNanos(), to, how));
            }
            if (own == null) {
                oneAlive = true;
            } else {
                lastDeath = anyBefore ? later(lastDeath, own) : own;
            }
            anyBefore = true;
        }
        return overlaps;
    }

    /**
     * The processes that hold byte 0 of {@code lock} now, by {@code /proc/locks} (their PIDs as this machine's {@code
     * /proc} shows them): every scheduler process alive that took the lifetime lock, and nothing else. A check that
     * the lock outlived an exec into a program that knows nothing of it (which would drop it by closing the file).
     */
    public static Set<Long> holders(Path lock) throws IOException {
        long inode = ((Number) Files.getAttribute(lock, "unix:ino")).longValue();
        Set<Long> pids = new HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/locks"), StandardCharsets.US_ASCII)) {
            // "1: POSIX  ADVISORY  READ 1234 fe:00:9986050 0 0"; a blocked request has "->" after the number
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[1].equals("POSIX") && f[6].equals("0") && f[7].equals("0")) {
                String[] dev = f[5].split(":");
                if (dev.length == 3 && Long.parseLong(dev[2]) == inode) {
                    pids.add(Long.parseLong(f[4]));
                }
            }
        }
        return pids;
    }

    /** How many scheduler processes started, by the journal (a witness that saw none proves nothing). */
    public synchronized int starts() {
        return lives.size();
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
        return computeOverlaps().stream()
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
        return "lifetime lock " + lock + ": " + lives.size() + " scheduler starts, "
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
