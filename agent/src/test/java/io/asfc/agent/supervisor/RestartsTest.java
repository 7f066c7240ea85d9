package io.asfc.agent.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartsTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();
    private final Restarts restarts = new Restarts(Duration.ofSeconds(2), Duration.ofSeconds(10));

    @Test
    void aFirstStartNeverWaits() {
        assertTrue(restarts.waitNanos(-5 * SECOND) <= 0);
        assertTrue(restarts.waitNanos(5 * SECOND) <= 0);
    }

    @Test
    void everyFailureIsCountedAndDelaysTheNextStartByRestartSleep() {
        assertEquals(1, restarts.failed(100 * SECOND));
        assertEquals(2 * SECOND, restarts.waitNanos(100 * SECOND));
        assertEquals(SECOND, restarts.waitNanos(101 * SECOND));
        assertTrue(restarts.waitNanos(102 * SECOND) <= 0);
        assertEquals(2, restarts.failed(103 * SECOND));
        assertEquals(2, restarts.failures());
    }

    @Test
    void theCountIsClearedOnlyOnceTheSchedulerHasRunForStartTimeout() {
        restarts.failed(0);
        restarts.started(3 * SECOND);
        assertEquals(3 * SECOND, restarts.runningSinceNanos());
        assertFalse(restarts.resetIfStable(12 * SECOND));
        assertEquals(1, restarts.failures());
        assertTrue(restarts.resetIfStable(13 * SECOND));
        assertEquals(0, restarts.failures());
        assertFalse(restarts.resetIfStable(20 * SECOND), "nothing left to clear");
    }

    @Test
    void aRunOfStartTimeoutClearsTheCountEvenWhenItFailsBeforeAnyCheckSawItStable() {
        restarts.failed(0);
        restarts.started(2 * SECOND);
        // died 10.3 s after it started, with no periodic check in between: a fresh first failure
        assertEquals(1, restarts.failed(12 * SECOND + 300_000_000L));
        assertEquals(1, restarts.failures());
    }

    @Test
    void aRunShorterThanStartTimeoutStillCounts() {
        restarts.failed(0);
        restarts.started(2 * SECOND);
        assertEquals(2, restarts.failed(11 * SECOND + 900_000_000L));
    }

    @Test
    void aFailedStartIsCountedWithoutClearingWhateverTheTimeSinceTheLastRun() {
        restarts.failed(0);
        restarts.started(2 * SECOND);
        assertEquals(2, restarts.failed(5 * SECOND)); // died after 3 s
        assertEquals(3, restarts.failed(60 * SECOND)); // the next start failed: no run in between
        assertFalse(restarts.resetIfStable(100 * SECOND), "not running: nothing ran stable");
    }

    @Test
    void tellsWhenTheRunWillBeStableSoTheSupervisorLooksExactlyThen() {
        assertTrue(restarts.nanosUntilStable(0).isEmpty(), "no failures: nothing to clear");
        restarts.failed(0);
        restarts.started(2 * SECOND);
        assertEquals(10 * SECOND, restarts.nanosUntilStable(2 * SECOND).getAsLong());
        assertEquals(SECOND, restarts.nanosUntilStable(11 * SECOND).getAsLong());
        restarts.failed(5 * SECOND);
        assertTrue(restarts.nanosUntilStable(5 * SECOND).isEmpty(), "not running");
    }

    @Test
    void aRunWithNoFailureHasNothingToClear() {
        restarts.started(0);
        assertTrue(restarts.nanosUntilStable(0).isEmpty());
        assertFalse(restarts.resetIfStable(60 * SECOND));
    }

    @Test
    void itTellsItsTerms() {
        assertEquals(Duration.ofSeconds(2), restarts.restartSleep());
        assertEquals(Duration.ofSeconds(10), restarts.stableAfter());
    }
}
