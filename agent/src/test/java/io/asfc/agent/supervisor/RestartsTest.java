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
}
