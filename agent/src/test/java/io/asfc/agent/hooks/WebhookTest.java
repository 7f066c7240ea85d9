package io.asfc.agent.hooks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.config.HookSettings;
import io.asfc.common.config.Secret;
import io.asfc.common.zk.Json;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The webhook against a receiver on 127.0.0.1: body and headers, retries, final answers, a hung receiver. */
class WebhookTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Metrics metrics = new Metrics("a", "default", "test", Map.of(), System::nanoTime);
    private Receiver receiver;
    private Webhook webhook;

    @AfterEach
    void close() {
        if (webhook != null) {
            webhook.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    @Test
    void postsTheEventAsJsonWithTheConfiguredHeaders() throws Exception {
        start(n -> 200, Duration.ofSeconds(5), 3, 10);

        webhook.offer(event("failover"));

        await().atMost(WAIT).until(() -> ok() == 1);
        Receiver.Request request = receiver.requests().get(0);
        assertEquals("Bearer s3cret", request.header("Authorization"));
        assertEquals("application/json", request.header("Content-Type"));
        JsonNode body = Json.mapper().readTree(request.body());
        assertEquals(1, body.get("schemaVersion").asInt());
        assertEquals("failover", body.get("event").asText());
        assertEquals("default", body.get("cluster").asText());
        assertEquals("b", body.get("node").asText());
        assertEquals("from a to b", body.get("reason").asText());
        assertEquals(42, body.get("epoch").asLong());
        assertEquals("2026-12-07T21:00:00Z", body.get("at").asText());
        assertTrue(body.get("text").asText().contains("failover"), body.toString());
    }

    @Test
    void aReceiverThatAnswers500GetsTheEventAgainAfterABackoff() throws Exception {
        start(n -> n == 1 ? 500 : 200, Duration.ofSeconds(5), 3, 10);

        webhook.offer(event("failover"));

        await().atMost(WAIT).until(() -> ok() == 1);
        assertEquals(2, receiver.requests().size());
        assertEquals(
                receiver.requests().get(0).body(), receiver.requests().get(1).body());
        assertEquals(1, MetricsText.value(metrics, "asfc_webhook_retries_total"));
        assertEquals(0, failed());
    }

    @Test
    void aReceiverThatKeepsFailingIsAskedMaxAttemptsTimesThenTheEventIsCountedAsFailed() throws Exception {
        start(n -> 503, Duration.ofSeconds(5), 3, 10);

        webhook.offer(event("failover"));

        await().atMost(WAIT).until(() -> failed() == 1);
        assertEquals(3, receiver.requests().size());
        await().during(Duration.ofSeconds(1))
                .atMost(WAIT)
                .until(() -> receiver.requests().size() == 3);
    }

    @Test
    void aFinalAnswerIsNotRetried() throws Exception {
        start(n -> 404, Duration.ofSeconds(5), 3, 10);

        webhook.offer(event("failover"));

        await().atMost(WAIT).until(() -> failed() == 1);
        await().during(Duration.ofSeconds(1))
                .atMost(WAIT)
                .until(() -> receiver.requests().size() == 1);
    }

    @Test
    void aHungReceiverTimesOutAndAFullQueueDropsEventsWithoutBlockingTheCaller() throws Exception {
        start(n -> 0, Duration.ofMillis(500), 1, 1);

        for (int i = 0; i < 5; i++) {
            webhook.offer(event("event-" + i)); // returns at once, whatever the receiver does
        }

        await().atMost(WAIT)
                .until(() -> MetricsText.value(metrics, "asfc_hook_events_dropped_total{sink=\"webhook\"}") >= 3);
        await().atMost(WAIT).until(() -> failed() == 5 - dropped());
        assertEquals(0, ok());
    }

    private void start(IntUnaryOperator answer, Duration timeout, int attempts, int queue) throws Exception {
        receiver = Receiver.answering(answer);
        webhook = new Webhook(
                "a",
                new HookSettings.Webhook(
                        Optional.of(URI.create(receiver.url())),
                        Map.of("Authorization", Secret.of("Bearer s3cret")),
                        timeout,
                        attempts,
                        Duration.ofMillis(100),
                        Duration.ofMillis(400),
                        queue),
                metrics);
    }

    private static HookEvent event(String type) {
        return new HookEvent(
                type, "default", "b", "from a to b", OptionalLong.of(42), Instant.parse("2026-12-07T21:00:00Z"), null);
    }

    private double ok() {
        return MetricsText.value(metrics, "asfc_webhook_deliveries_total{result=\"ok\"}");
    }

    private double failed() {
        return MetricsText.value(metrics, "asfc_webhook_deliveries_total{result=\"failed\"}");
    }

    private double dropped() {
        return MetricsText.value(metrics, "asfc_hook_events_dropped_total{sink=\"webhook\"}");
    }
}
