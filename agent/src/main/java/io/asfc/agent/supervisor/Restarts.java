package io.asfc.agent.supervisor;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * The restart policy of the local scheduler, without effects: every failure is counted and delays
 * the next start by {@code restart-sleep}; a scheduler that has run for {@code start-timeout}
 * clears the count, exactly then: a run that lasted that long before it failed is not counted
 * with the failures before it, whether or not a periodic check saw it stable first. Times are
 * {@link System#nanoTime()} values passed in. Used on the supervisor thread only.
 */
final class Restarts {
    private final Duration restartSleep;
    private final Duration stableAfter;
    private int failures;
    private long notBeforeNanos;
    private boolean failedOnce;
    private long runningSinceNanos;
    /** Between {@link #started} and the next {@link #failed}. */
    private boolean running;

    Restarts(Duration restartSleep, Duration stableAfter) {
        this.restartSleep = restartSleep;
        this.stableAfter = stableAfter;
    }

    /** Counts a failure at {@code now}; returns the new count. */
    int failed(long now) {
        resetIfStable(now); // a run of start-timeout or more clears the count before this failure
        running = false;
        failures++;
        failedOnce = true;
        notBeforeNanos = now + restartSleep.toNanos();
        return failures;
    }

    /** How long a start must still wait at {@code now}; zero or less when it may start. */
    long waitNanos(long now) {
        return failedOnce ? notBeforeNanos - now : 0;
    }

    void started(long now) {
        runningSinceNanos = now;
        running = true;
    }

    /**
     * How long after {@code now} the count will be cleared if the scheduler keeps running; empty when
     * there is nothing to clear. The supervisor looks again then, so the count it publishes drops on time.
     */
    OptionalLong nanosUntilStable(long now) {
        if (!running || failures == 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Math.max(0, runningSinceNanos + stableAfter.toNanos() - now));
    }

    /** When the scheduler last started (0 before the first start of this agent). */
    long runningSinceNanos() {
        return runningSinceNanos;
    }

    /** Clears the count once the scheduler has run for {@code start-timeout}; true when it did. */
    boolean resetIfStable(long now) {
        if (running && failures > 0 && now - runningSinceNanos >= stableAfter.toNanos()) {
            failures = 0;
            return true;
        }
        return false;
    }

    int failures() {
        return failures;
    }

    Duration restartSleep() {
        return restartSleep;
    }

    Duration stableAfter() {
        return stableAfter;
    }
}
