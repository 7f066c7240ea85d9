package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class S4BudgetTest {
    @Test
    void theDefaultsHold() {
        S4Budget b = new S4Budget(
                Duration.ofSeconds(10), Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertEquals(14_666, b.stoppedBy().toMillis());
        assertEquals(Duration.ofSeconds(15), b.takeoverAfter());
        assertTrue(b.problem().isEmpty());
    }

    @Test
    void theOldDefaultsDidNotOnceTheStopIsCounted() {
        // c86bae1 shipped self-fence-after = 4s and compared only when SIGTERM is sent
        S4Budget b = new S4Budget(
                Duration.ofSeconds(10), Duration.ofSeconds(4), Duration.ofSeconds(5), Duration.ofSeconds(5));
        String problem = b.problem().orElseThrow();
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
        S4Budget b = new S4Budget(
                Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertEquals(b.stoppedBy(), b.takeoverAfter());
        assertTrue(b.problem().isPresent());
    }
}
