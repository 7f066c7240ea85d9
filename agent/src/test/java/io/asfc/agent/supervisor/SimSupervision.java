package io.asfc.agent.supervisor;

import java.time.Duration;

/**
 * The simulator's door to the supervisor's real decisions (io.asfc.agent.sim): {@link Step#decide},
 * the restart policy {@link Restarts} and the self-fence's {@link FenceRule#due}, which are
 * package-private. Decides nothing itself.
 */
public final class SimSupervision {
    /** {@link Step}. */
    public enum Decision {
        HOLD,
        STOP,
        START,
        KEEP,
        NONE
    }

    private SimSupervision() {}

    public static Decision step(boolean paused, boolean malformed, boolean mine, boolean running) {
        return Decision.valueOf(Step.decide(paused, malformed, mine, running).name());
    }

    /** {@link FenceRule#due} of a started self-fence: whether a self-fence that came due stops the scheduler. */
    public static boolean selfFences(boolean suspended, boolean connected) {
        return FenceRule.due(suspended, true, suspended && connected) == FenceRule.Verdict.FENCE;
    }

    /** {@link Restarts}, one per agent incarnation, as the {@link Reconciler} keeps it. */
    public static final class Restart {
        private final Restarts restarts;

        public Restart(Duration restartSleep, Duration stableAfter) {
            this.restarts = new Restarts(restartSleep, stableAfter);
        }

        public int failed(long now) {
            return restarts.failed(now);
        }

        public long waitNanos(long now) {
            return restarts.waitNanos(now);
        }

        public void started(long now) {
            restarts.started(now);
        }

        public boolean resetIfStable(long now) {
            return restarts.resetIfStable(now);
        }

        public int failures() {
            return restarts.failures();
        }
    }
}
