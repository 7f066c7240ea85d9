package io.asfc.it.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asfc.it.pg.Observer.Identity;
import io.asfc.it.pg.Observer.Main;
import io.asfc.it.pg.Observer.Sample;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The proving ground's figures from samples, without a proving ground (so it needs no root). S1 counts scheduler
 * processes: two on one host are an overlap, as two on two hosts are. (An IT only because this module's tests all run
 * under failsafe.)
 */
class WindowIT {
    private static final long MS = 1_000_000;

    @Test
    void twoSchedulersOnOneHostAreAnOverlap() {
        Main a1 = new Main("a", new Identity(10, 100));
        Main a2 = new Main("a", new Identity(11, 101));
        Window w = window(
                new Sample(0, List.of(a1)), new Sample(10 * MS, List.of(a1, a2)), new Sample(30 * MS, List.of(a2)));

        assertEquals(1, w.overlapSamples());
        assertEquals(20, w.overlapMillis());
        assertEquals("a → a+a → a", w.schedulerPath());
    }

    @Test
    void oneSchedulerAfterAnotherIsNone() {
        Window w = window(
                new Sample(0, List.of(new Main("a", new Identity(10, 100)))),
                new Sample(10 * MS, List.of()),
                new Sample(20 * MS, List.of(new Main("b", new Identity(10, 100)))));

        assertEquals(0, w.overlapSamples());
        assertEquals(0, w.overlapMillis());
        assertEquals("a → - → b", w.schedulerPath());
    }

    private static Window window(Sample... samples) {
        return new Window(0, 40 * MS, Optional.empty(), List.of(samples), List.of());
    }
}
