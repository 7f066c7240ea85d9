package io.asfc.agent.supervisor;

import java.time.Duration;

/**
 * The restart policy of the local scheduler, without effects: every failure is counted and delays
 * the next start by {@code restart-sleep}; a scheduler that has run for {@code start-timeout}
 * clears the count. Times are {@link System#nanoTime()} values passed in. Used on the supervisor
 * thread only.
 */
final class Restarts {
    private final Duration restartSleep;
    private final Duration stableAfter;
    private int failures;
    private long notBeforeNanos;
    private boolean failedOnce;
    private long runningSinceNanos;

    Restarts(Duration restartSleep, Duration stableAfter) {
        this.restartSleep = restartSleep;
        this.stableAfter = stableAfter;
    }

    /** Counts a failure at {@code now}; returns the new count. */
    int failed(long now) {
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
    }

    /** When the scheduler last started (0 before the first start of this agent). */
    long runningSinceNanos() {
        return runningSinceNanos;
    }

    /** Clears the count once the scheduler has run for {@code start-timeout}; true when it did. */
    boolean resetIfStable(long now) {
        if (failures > 0 && now - runningSinceNanos >= stableAfter.toNanos()) {
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
