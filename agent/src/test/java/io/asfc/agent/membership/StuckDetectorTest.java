package io.asfc.agent.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StuckDetectorTest {
    private static final long SECOND = 1_000_000_000L;
    private final StuckDetector detector = new StuckDetector(Duration.ofSeconds(3));

    @Test
    void agentWhoseSeqStopsIsStuckAfterTheThresholdOnTheObserversClock() {
        assertTrue(detector.observe(Map.of("a", 1L), 0).isEmpty());
        assertTrue(detector.observe(Map.of("a", 2L), SECOND).isEmpty());
        assertTrue(detector.observe(Map.of("a", 2L), 3 * SECOND).isEmpty(), "2s without progress is fine");

        List<StuckDetector.Change> changes = detector.observe(Map.of("a", 2L), 4 * SECOND);

        assertEquals(List.of(new StuckDetector.Change("a", true, 2L, Duration.ofSeconds(3))), changes);
        assertTrue(detector.observe(Map.of("a", 2L), 9 * SECOND).isEmpty(), "reported once per streak");
    }

    @Test
    void advancingAgainIsReportedAsRecovery() {
        detector.observe(Map.of("a", 7L), 0);
        detector.observe(Map.of("a", 7L), 5 * SECOND);

        List<StuckDetector.Change> changes = detector.observe(Map.of("a", 8L), 6 * SECOND);

        assertEquals(1, changes.size());
        assertEquals(false, changes.get(0).stuck());
    }

    @Test
    void agentsThatLeaveAreForgottenAndWallClocksPlayNoPart() {
        detector.observe(Map.of("a", 1L, "b", 1L), 0);
        detector.observe(Map.of("b", 2L), 2 * SECOND);

        // "a" comes back with an old seq: it starts a fresh track rather than being stuck at once.
        assertTrue(detector.observe(Map.of("a", 1L, "b", 3L), 4 * SECOND).isEmpty());
    }
}
