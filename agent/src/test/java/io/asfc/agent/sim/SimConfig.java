package io.asfc.agent.sim;

import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.config.S4Budget;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The configuration every simulated agent runs with (times in nanoseconds), named as in
 * reference.conf, plus how the simulated hosts behave ({@code maxStartDelay}, {@code maxExitDelay}).
 *
 * @param childMode {@code scheduler.mode = child} with {@code stop-with-agent} (the on-host deadman);
 *     false: command mode, no deadman, and a crashed agent leaves its scheduler running
 * @param maxStartDelay how long a start takes before it returns (child: the launch; command: the
 *     start-command), drawn per start from [0, this]
 * @param maxExitDelay how long a scheduler takes to exit on SIGTERM, drawn per process from [0, this]
 */
public record SimConfig(
        String name,
        long session,
        long selfFenceAfter,
        long selfFenceStopTimeout,
        long takeoverGrace,
        long heartbeat,
        long poll,
        long check,
        long restartSleep,
        long startTimeout,
        long stopTimeout,
        int maxRestarts,
        long deadman,
        boolean childMode,
        OnUnfenceable onUnfenceable,
        boolean ssh,
        long sshConnectTimeout,
        long sshCommandTimeout,
        int verifyAgentsEvery,
        long maxStartDelay,
        long maxExitDelay,
        List<String> nodes,
        Set<String> agentless) {

    static final long MS = 1_000_000L;
    static final long S = 1_000 * MS;

    /** The shipped defaults of reference.conf, with three agent hosts a, b, c. */
    public static SimConfig defaults() {
        return new SimConfig(
                "defaults",
                10 * S,
                3 * S,
                5 * S,
                5 * S,
                5 * S,
                30 * S,
                1 * S,
                1 * S,
                60 * S,
                30 * S,
                3,
                deadmanDefault(10 * S, 3 * S),
                true,
                OnUnfenceable.PROCEED,
                true,
                3 * S,
                15 * S,
                10,
                1 * S,
                8 * S,
                List.of("a", "b", "c"),
                Set.of());
    }

    /** The proving ground's short timings (integration-tests Tunings.DEFAULT). */
    public static SimConfig provingGround() {
        return new SimConfig(
                "proving-ground",
                4 * S,
                2 * S,
                500 * MS,
                1500 * MS,
                500 * MS,
                1 * S,
                200 * MS,
                200 * MS,
                60 * S,
                2 * S,
                3,
                deadmanDefault(4 * S, 2 * S),
                true,
                OnUnfenceable.PROCEED,
                true,
                1 * S,
                5 * S,
                2,
                1 * S,
                8 * S,
                List.of("a", "b", "c"),
                Set.of());
    }

    private static long deadmanDefault(long session, long selfFenceAfter) {
        return S4Budget.deadmanDefault(Duration.ofNanos(session), Duration.ofNanos(selfFenceAfter))
                .toNanos();
    }

    /** The same, with the agentless host {@code x} listed last. */
    public SimConfig withAgentless() {
        return new SimConfig(
                name + "+agentless",
                session,
                selfFenceAfter,
                selfFenceStopTimeout,
                takeoverGrace,
                heartbeat,
                poll,
                check,
                restartSleep,
                startTimeout,
                stopTimeout,
                maxRestarts,
                deadman,
                childMode,
                onUnfenceable,
                ssh,
                sshConnectTimeout,
                sshCommandTimeout,
                verifyAgentsEvery,
                maxStartDelay,
                maxExitDelay,
                List.of("a", "b", "c", "x"),
                Set.of("x"));
    }

    /** Command mode: no deadman, a start-command that runs up to {@code startCommand}. */
    public SimConfig commandMode(long startCommand) {
        return new SimConfig(
                name + "+command",
                session,
                selfFenceAfter,
                selfFenceStopTimeout,
                takeoverGrace,
                heartbeat,
                poll,
                check,
                restartSleep,
                startTimeout,
                stopTimeout,
                maxRestarts,
                deadman,
                false,
                onUnfenceable,
                ssh,
                sshConnectTimeout,
                sshCommandTimeout,
                verifyAgentsEvery,
                startCommand,
                maxExitDelay,
                nodes,
                agentless);
    }

    public S4Budget s4() {
        return new S4Budget(
                Duration.ofNanos(session),
                Duration.ofNanos(selfFenceAfter),
                Duration.ofNanos(selfFenceStopTimeout),
                Duration.ofNanos(takeoverGrace),
                Duration.ofNanos(deadman));
    }

    /**
     * The L1 bound, as the proving ground picks it (integration-tests Tunings.l1Bound): session
     * timeout + the fence time (the longer of takeover-grace and one SSH call, connect + command
     * timeout) + the start time (restart-sleep + the longest start). The simulator measures it from
     * the heal of the last of several faults, so it adds what a multi-fault history may still owe:
     * one poll-interval (a failed host stop is tried again, a blocked move re-decided, once per
     * poll-interval) and one heartbeat-interval (an agent's record comes back at its next beat).
     */
    public long l1Bound() {
        long sshCall = sshConnectTimeout + sshCommandTimeout;
        return session + Math.max(takeoverGrace, sshCall) + restartSleep + maxStartDelay + poll + heartbeat;
    }

    String describe() {
        return name + ": session-timeout=" + ms(session) + " self-fence-after=" + ms(selfFenceAfter)
                + " self-fence-stop-timeout=" + ms(selfFenceStopTimeout) + " takeover-grace=" + ms(takeoverGrace)
                + " heartbeat-interval=" + ms(heartbeat) + " poll-interval=" + ms(poll) + " check-interval="
                + ms(check) + " deadman-timeout=" + ms(deadman) + " mode=" + (childMode ? "child" : "command")
                + " on-unfenceable=" + onUnfenceable + " nodes=" + nodes + " agentless=" + agentless;
    }

    static String ms(long nanos) {
        return nanos / MS + "ms";
    }
}
