package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class S4BudgetTest {
    private static S4Budget budget(long session, long selfFenceAfter, long stop, long grace) {
        Duration s = Duration.ofSeconds(session);
        Duration sfa = Duration.ofSeconds(selfFenceAfter);
        return new S4Budget(
                s, sfa, Duration.ofSeconds(stop), Duration.ofSeconds(grace), S4Budget.deadmanDefault(s, sfa));
    }

    @Test
    void theDefaultsHold() {
        S4Budget b = budget(10, 3, 5, 5);
        assertEquals(14_666, b.stoppedBy().toMillis());
        assertEquals(Duration.ofSeconds(15), b.takeoverAfter());
        assertEquals(9_666, b.deadman().toMillis(), "the derived deadman-timeout: 2/3 x 10s + 3s");
        assertTrue(b.problem().isEmpty());
    }

    @Test
    void theOldDefaultsDidNotOnceTheStopIsCounted() {
        // c86bae1 shipped self-fence-after = 4s and compared only when SIGTERM is sent
        String problem = budget(10, 4, 5, 5).problem().orElseThrow();
        for (String term : new String[] {
            "zookeeper.session-timeout",
            "zookeeper.self-fence-after",
            "scheduler.self-fence-stop-timeout",
            "controller.takeover-grace",
            "15666ms",
            "15000ms",
            "6666ms"
        }) {
            assertTrue(problem.contains(term), () -> "names " + term + ": " + problem);
        }
    }

    @Test
    void equalIsNotEnough() {
        S4Budget b = budget(3, 1, 1, 1);
        assertEquals(b.stoppedBy(), b.takeoverAfter());
        assertTrue(b.problem().isPresent());
    }

    @Test
    void theDerivedDeadmanHoldsWheneverTheSelfFenceDoes() {
        // short test timings too: a 4 s session with a 2 s self-fence and 0.5 s stop, grace 1.5 s
        S4Budget pg = new S4Budget(
                Duration.ofSeconds(4),
                Duration.ofSeconds(2),
                Duration.ofMillis(500),
                Duration.ofMillis(1500),
                S4Budget.deadmanDefault(Duration.ofSeconds(4), Duration.ofSeconds(2)));
        assertTrue(pg.problem().isEmpty(), () -> pg.problem().orElse(""));
        for (long session = 2; session <= 60; session += 2) {
            for (long sfa = 1; sfa < session; sfa++) {
                S4Budget b = budget(session, sfa, 5, 5);
                if (b.stoppedBy().compareTo(b.takeoverAfter()) < 0) {
                    assertTrue(b.problem().isEmpty(), b::toString);
                }
            }
        }
    }

    @Test
    void aDeadmanTimeoutThatBreaksTheBudgetIsNamed() {
        S4Budget b = new S4Budget(
                Duration.ofSeconds(10),
                Duration.ofSeconds(3),
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                Duration.ofSeconds(10));
        String problem = b.problem().orElseThrow();
        assertTrue(problem.contains("scheduler.deadman-timeout 10000ms"), problem);
        assertTrue(problem.contains("15000ms"), problem);
        assertTrue(!problem.contains("zookeeper.self-fence-after"), "the self-fence term holds: " + problem);
    }
}
