package io.asfc.agent.supervisor;

import io.asfc.common.process.ProcessTable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-over of an on-host deadman from an agent that leaves to the agent that replaces it (a
 * rolling upgrade with no scheduler restart, docs/UPGRADE.md). The leaving agent asks ({@link
 * #request}): the deadman opens a fifo and acknowledges with its pid; from then on its pipe's end
 * closing means "a new agent comes", and it reads the fifo until a new agent adopts it ({@link
 * #attach}) or its deadline passes, which the hand-over never moves. The new agent's writes reach
 * it through the fifo: renewals, {@code stop}, and its own end closing (the new agent died) stops
 * the scheduler, as the pipe's did.
 */
public final class DeadmanHandOver {
    private static final Logger LOG = LoggerFactory.getLogger(DeadmanHandOver.class);
    /**
     * The deadman's side, in bash, shared by the child-mode {@link Watchdog} and the command-mode
     * deadman; both read the agent's lines on fd 3 and set {@code $self} (the pid that acknowledges)
     * and {@code $me} (their log prefix). {@code handover FIFO} opens the fifo read-write (it waits
     * without blocking and never reads an end-of-file there) and acknowledges with the pid; the
     * pipe's end then switches fd 3 to the fifo ({@code awaiting}) instead of meaning "the agent is
     * gone". {@code adopt [PIDS]} makes it hold the fifo read-only, so that the new agent's end
     * closing is, again, the agent gone; PIDS (the new agent and its ancestors) replace {@code
     * $protect}, the pids it never signals (the previous agent's are gone, and may be reused). {@code unhand} cancels. The deadline never moves here:
     * only renewals do.
     */
    public static final String SHELL =
            """
            handover() {
              fifo=$1; waiting=
              rm -f -- "$fifo" "$fifo.ack"
              if mkfifo -m 600 -- "$fifo" && exec 5<>"$fifo"; then
                echo "$self" > "$fifo.ack"
              else
                echo "$me: ERROR: cannot open a fifo at $fifo for a hand-over" >&2; fifo=
              fi
            }
            unhand() { [ -n "$fifo" ] && { exec 5<&-; rm -f -- "$fifo" "$fifo.ack"; }; fifo=; waiting=; }
            awaiting() {
              [ -n "$fifo" ] && [ -z "$waiting" ] || return 1
              exec 3<&5 5<&-; waiting=1
              echo "$me: the agent left for a hand-over; waiting for a new agent on $fifo" >&2
            }
            adopt() {
              [ -n "$waiting" ] || return 0
              exec 6<"$fifo" && exec 3<&6 6<&-
              rm -f -- "$fifo" "$fifo.ack"; fifo=; waiting=
              set -- $1; protect=" $* "
              echo "$me: adopted by a new agent${1:+ (pid $1)}" >&2
            }
            """;

    /** How long the leaving agent waits for the deadman's acknowledgement. */
    static final Duration ACK_WAIT = Duration.ofSeconds(2);

    private DeadmanHandOver() {}

    /** Where the deadman acknowledges a hand-over on {@code fifo}: its pid. */
    static Path ack(Path fifo) {
        return fifo.resolveSibling(fifo.getFileName() + ".ack");
    }

    /**
     * The leaving agent: asks the deadman behind {@code line} to wait on {@code fifo} for a new agent.
     *
     * @return the deadman's pid once it acknowledged; empty when it did not within {@link #ACK_WAIT}
     *     (the agent then stops its scheduler as on any stop)
     */
    public static OptionalLong request(Lifeline line, Path fifo) throws InterruptedException {
        Path ack = ack(fifo);
        try {
            Files.createDirectories(fifo.toAbsolutePath().getParent());
            Files.deleteIfExists(ack);
        } catch (IOException e) {
            LOG.warn("cannot prepare {} for a hand-over: {}", fifo, e.toString());
            return OptionalLong.empty();
        }
        line.send("handover " + fifo);
        long deadline = System.nanoTime() + ACK_WAIT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            try {
                String text = Files.readString(ack).trim();
                if (!text.isEmpty()) {
                    return OptionalLong.of(Long.parseLong(text));
                }
            } catch (IOException | NumberFormatException e) {
                // not written yet
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        line.send("unhand");
        LOG.warn("the deadman did not acknowledge the hand-over within {}ms", ACK_WAIT.toMillis());
        return OptionalLong.empty();
    }

    /**
     * The new agent: adopts the deadman {@code deadmanPid} waiting on {@code fifo}, sending {@code
     * adopt} with this process and its ancestors, the pids the deadman must never signal.
     *
     * @return the new agent's end of the deadman's input; empty when the deadman is gone or the fifo
     *     cannot be opened (its deadline passed: it stopped the scheduler)
     */
    public static Optional<Lifeline> attach(Path fifo, long deadmanPid) {
        Optional<ProcessHandle> deadman = ProcessHandle.of(deadmanPid).filter(ProcessHandle::isAlive);
        if (deadman.isEmpty() || !Files.exists(fifo) || Files.isRegularFile(fifo)) {
            return Optional.empty();
        }
        String protect =
                protectedPids().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" "));
        try {
            // Read-write: a fifo opened write-only would block while no reader has it open.
            FileChannel channel = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            OutputStream out = new Guarded(
                    Channels.newOutputStream(channel),
                    deadman.get(),
                    deadman.get().info().startInstant());
            out.write(("adopt " + protect + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return Optional.of(new Lifeline(out));
        } catch (IOException e) {
            LOG.warn("cannot adopt the deadman (pid {}) on {}: {}", deadmanPid, fifo, e.toString());
            return Optional.empty();
        }
    }

    /** This process and its ancestors, but pid 1: the pids a deadman must never signal. */
    public static List<Long> protectedPids() {
        return ProcessTable.snapshot().ancestry(ProcessHandle.current().pid()).stream()
                .filter(pid -> pid > 1)
                .toList();
    }

    /**
     * The command line of the running deadman {@code pid} (NUL-separated arguments), to check what it was started
     * with: its timeouts and what it stops never change after its start, whichever agent renews it.
     */
    public static Optional<List<String>> argv(long pid) {
        try {
            String raw = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
            return Optional.of(List.of(raw.split("\0", -1)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** One variable of the running process {@code pid}'s environment (readable for the same user only). */
    public static Optional<String> environment(long pid, String name) {
        try {
            String raw = Files.readString(Path.of("/proc", Long.toString(pid), "environ"), StandardCharsets.UTF_8);
            for (String entry : raw.split("\0")) {
                if (entry.startsWith(name + "=")) {
                    return Optional.of(entry.substring(name.length() + 1));
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Why this agent must not keep the scheduler under a deadman started with {@code theirs} (the stop's kill clock
     * in tenths of a second, the deadman timeout in hundredths), when its own config gives {@code ours}: a deadman
     * keeps the timeouts it was started with, while the resumed session times out with this agent's
     * session-timeout from now on, so a longer one would break this agent's S4 budget. Empty when they fit.
     */
    public static Optional<String> misfit(long theirTenths, long theirCentis, long ourTenths, long ourCentis) {
        if (theirTenths > ourTenths || theirCentis > ourCentis) {
            return Optional.of("its deadman runs with deadman-timeout " + theirCentis * 10 + "ms and a kill clock of "
                    + theirTenths * 100 + "ms, longer than this agent's " + ourCentis * 10 + "ms and "
                    + ourTenths * 100 + "ms (its S4 budget)");
        }
        return Optional.empty();
    }

    /** The same process as when it was first seen: alive, and started at the same instant (never a reused pid). */
    private static boolean same(ProcessHandle handle, Optional<Instant> started) {
        return handle.isAlive() && handle.info().startInstant().equals(started);
    }

    /**
     * Writes only while the deadman lives: the new agent holds the fifo read-write, so a write with no
     * deadman left would fill the fifo and then block.
     */
    private static final class Guarded extends OutputStream {
        private final OutputStream out;
        private final ProcessHandle deadman;
        private final Optional<Instant> started;

        Guarded(OutputStream out, ProcessHandle deadman, Optional<Instant> started) {
            this.out = out;
            this.deadman = deadman;
            this.started = started;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (!same(deadman, started)) {
                throw new IOException("the deadman (pid " + deadman.pid() + ") is gone");
            }
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
