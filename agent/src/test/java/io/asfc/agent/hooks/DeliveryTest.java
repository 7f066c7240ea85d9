package io.asfc.agent.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** What the webhook does after an attempt: a table of answers. */
class DeliveryTest {
    private final Delivery delivery = new Delivery(4, Duration.ofSeconds(1), Duration.ofSeconds(3));

    @Test
    void a2xxAnswerIsDelivered() {
        assertInstanceOf(Delivery.Delivered.class, delivery.after(1, OptionalInt.of(200)));
        assertInstanceOf(Delivery.Delivered.class, delivery.after(4, OptionalInt.of(204)));
    }

    @Test
    void noAnswerA429OrA5xxIsRetriedWithABackoffThatDoublesUpToItsMaximum() {
        assertEquals(new Delivery.Retry(Duration.ofSeconds(1)), delivery.after(1, OptionalInt.empty()));
        assertEquals(new Delivery.Retry(Duration.ofSeconds(2)), delivery.after(2, OptionalInt.of(500)));
        assertEquals(new Delivery.Retry(Duration.ofSeconds(3)), delivery.after(3, OptionalInt.of(429)));
    }

    @Test
    void theLastAttemptGivesUp() {
        assertEquals(new Delivery.GiveUp("HTTP 503 after 4 attempt(s)"), delivery.after(4, OptionalInt.of(503)));
        assertEquals(new Delivery.GiveUp("no answer after 4 attempt(s)"), delivery.after(4, OptionalInt.empty()));
    }

    @Test
    void anyOtherAnswerIsFinalAtOnce() {
        assertEquals(new Delivery.GiveUp("HTTP 404 (not retried)"), delivery.after(1, OptionalInt.of(404)));
        assertEquals(new Delivery.GiveUp("HTTP 301 (not retried)"), delivery.after(1, OptionalInt.of(301)));
        assertEquals(new Delivery.GiveUp("HTTP 400 (not retried)"), delivery.after(1, OptionalInt.of(400)));
    }

    @Test
    void oneAttemptNeverRetries() {
        assertEquals(
                new Delivery.GiveUp("HTTP 500 after 1 attempt(s)"),
                new Delivery(1, Duration.ofSeconds(1), Duration.ofSeconds(1)).after(1, OptionalInt.of(500)));
    }
}
