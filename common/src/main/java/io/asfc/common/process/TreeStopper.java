package io.asfc.common.process;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a known set of processes: SIGTERM to each, wait up to the stop timeout, then SIGKILL to
 * what is left. A pid is only signalled while it still belongs to the same process (same start
 * time), so a reused pid is never hit. Zombies count as gone.
 */
public final class TreeStopper {
    private static final Logger LOG = LoggerFactory.getLogger(TreeStopper.class);
    private static final long POLL_MS = 20;
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final LongSupplier nanoTime;

    public TreeStopper(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** What happened to a stop. */
    public record Result(int terminated, int killed, List<ProcessInfo> survivors) {
        public boolean stopped() {
            return survivors.isEmpty();
        }
    }

    /** Blocks until every process is gone or was killed; interrupts end the wait early. */
    public Result stop(Collection<ProcessInfo> processes, Duration timeout) throws InterruptedException {
        List<ProcessInfo> alive = new ArrayList<>(processes);
        alive.forEach(p -> signal(p, false));
        int total = alive.size();
        alive = waitGone(alive, timeout);
        int killed = alive.size();
        if (!alive.isEmpty()) {
            LOG.warn(
                    "{} process(es) still alive {}ms after SIGTERM; sending SIGKILL: {}",
                    alive.size(),
                    timeout.toMillis(),
                    alive.stream().map(ProcessInfo::pid).toList());
            alive.forEach(p -> signal(p, true));
            alive = waitGone(alive, KILL_WAIT);
        }
        return new Result(total - killed, killed, List.copyOf(alive));
    }

    /** Whether this exact process (same pid and start time) still runs and is not a zombie. */
    public static boolean isAlive(ProcessInfo p) {
        return ProcessTable.read(p.pid())
                .filter(now -> now.startTicks() == p.startTicks() && !now.isZombie())
                .isPresent();
    }

    private List<ProcessInfo> waitGone(List<ProcessInfo> processes, Duration timeout) throws InterruptedException {
        long deadline = nanoTime.getAsLong() + timeout.toNanos();
        List<ProcessInfo> alive = new ArrayList<>(processes);
        while (true) {
            alive.removeIf(p -> !isAlive(p));
            if (alive.isEmpty() || nanoTime.getAsLong() - deadline >= 0) {
                return alive;
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
    }

    private static void signal(ProcessInfo p, boolean kill) {
        if (!isAlive(p)) {
            return;
        }
        ProcessHandle.of(p.pid()).ifPresent(h -> {
            if (kill) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        });
    }
}
