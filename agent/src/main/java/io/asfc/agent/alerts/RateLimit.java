package io.asfc.agent.alerts;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/** At most {@code max} mails in any rolling hour. Not thread-safe: used by the sending thread only. */
final class RateLimit {
    private static final Duration WINDOW = Duration.ofHours(1);

    private final int max;
    private final Clock clock;
    private final Deque<Instant> sent = new ArrayDeque<>();

    RateLimit(int max, Clock clock) {
        this.max = max;
        this.clock = clock;
    }

    int max() {
        return max;
    }

    /** Whether one more mail may go out now. */
    boolean allows() {
        Instant horizon = clock.instant().minus(WINDOW);
        while (!sent.isEmpty() && !sent.peekFirst().isAfter(horizon)) {
            sent.removeFirst();
        }
        return sent.size() < max;
    }

    /** Counts a mail that went out. */
    void record() {
        sent.addLast(clock.instant());
    }
}
