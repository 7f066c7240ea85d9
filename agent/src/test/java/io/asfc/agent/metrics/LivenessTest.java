package io.asfc.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LivenessTest {
    private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
    private final Liveness liveness = new Liveness(
            Map.of(Loop.SUPERVISOR, Duration.ofSeconds(60), Loop.HEARTBEAT, Duration.ofSeconds(30)), now::get);

    @Test
    void nothingIsStuckBeforeTheLoopsStart() {
        advance(Duration.ofMinutes(10)); // e.g. waiting for ZooKeeper at startup

        assertTrue(liveness.stuck().isEmpty());
    }

    @Test
    void loopWithoutProgressPastItsLimitIsStuck() {
        liveness.watchFromNow();
        advance(Duration.ofSeconds(45));
        liveness.progress(Loop.SUPERVISOR);
        advance(Duration.ofSeconds(20));

        List<Liveness.Stuck> stuck = liveness.stuck();

        assertEquals(1, stuck.size(), stuck.toString());
        assertEquals(Loop.HEARTBEAT, stuck.get(0).loop());
        assertEquals(Duration.ofSeconds(65), stuck.get(0).silentFor());
        assertEquals(Duration.ofSeconds(30), stuck.get(0).limit());
    }

    @Test
    void progressClearsIt() {
        liveness.watchFromNow();
        advance(Duration.ofSeconds(31));
        assertEquals(1, liveness.stuck().size());

        liveness.progress(Loop.HEARTBEAT);

        assertTrue(liveness.stuck().isEmpty());
    }

    @Test
    void unwatchedLoopsAreNeverStuck() {
        liveness.watchFromNow();
        liveness.progress(Loop.HEARTBEAT);
        liveness.progress(Loop.SUPERVISOR);
        advance(Duration.ofSeconds(29));

        assertTrue(liveness.stuck().isEmpty(), "election and controller have no limit here");
        assertEquals(Duration.ofSeconds(29), liveness.sinceProgress(Loop.ELECTION));
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }
}
