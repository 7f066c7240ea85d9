package io.asfc.agent.supervisor;

import org.apache.curator.framework.state.ConnectionState;

/**
 * S4's decisions, apart from the self-fence's timer, thread and stop ({@link SelfFence} does those):
 * what a connection state asks of the self-fence, and whether a self-fence that is due stops the
 * scheduler. Pure, so that mutation testing and the simulator reach it without a ZooKeeper client.
 */
final class FenceRule {
    /** What a connection state asks of the self-fence. */
    enum OnState {
        /** SUSPENDED, no timer armed: arm one for {@code self-fence-after}. */
        ARM,
        /** SUSPENDED again with the timer armed: keep it, it counts from the first SUSPENDED. */
        KEEP_ARMED,
        /** LOST: the session is gone, fence now without waiting for {@code self-fence-after}. */
        FENCE_NOW,
        /** CONNECTED or RECONNECTED: cancel the timer, and the supervisor looks again. */
        DISARM,
        /** Any other state (READ_ONLY): nothing changes. */
        NOTHING
    }

    /** What a self-fence that came due does. */
    enum Verdict {
        /** Still suspended and nothing says the session lives: stop the local scheduler. */
        FENCE,
        /** Reconnected meanwhile (the timer raced the RECONNECTED event), or the self-fence closed: nothing. */
        STAND_DOWN,
        /**
         * The client is connected again although its RECONNECTED has not reached the listener yet:
         * the session lives, so no other host may take over; nothing (logged).
         */
        RECONNECTED_JUST_NOW
    }

    private FenceRule() {}

    /**
     * @param armed a self-fence-after timer is pending
     */
    static OnState onState(ConnectionState state, boolean armed) {
        return switch (state) {
            case SUSPENDED -> armed ? OnState.KEEP_ARMED : OnState.ARM;
            case LOST -> OnState.FENCE_NOW;
            case CONNECTED, RECONNECTED -> OnState.DISARM;
            default -> OnState.NOTHING;
        };
    }

    /**
     * @param suspended the connection is still suspended (no CONNECTED or RECONNECTED since)
     * @param open the self-fence is started and not closed
     * @param connected the ZooKeeper client reports itself connected right now
     */
    static Verdict due(boolean suspended, boolean open, boolean connected) {
        if (!suspended || !open) {
            return Verdict.STAND_DOWN;
        }
        return connected ? Verdict.RECONNECTED_JUST_NOW : Verdict.FENCE;
    }

    /** Whether a self-fence's stop ended a scheduler (then it is counted, and its event recorded). */
    static boolean stoppedAny(int terminated, int killed) {
        return terminated + killed > 0;
    }
}
