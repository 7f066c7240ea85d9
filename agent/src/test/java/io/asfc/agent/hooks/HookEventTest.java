package io.asfc.agent.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.common.zk.Json;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** What a hook command and a webhook receive for one event. */
class HookEventTest {
    private static final Instant AT = Instant.parse("2026-12-07T21:00:00Z");

    @Test
    void theCommandGetsTheEventInItsEnvironment() {
        HookEvent event =
                new HookEvent("failover", "prod", "b", "from a to b: a's agent is gone", OptionalLong.of(42), AT, null);

        assertEquals(
                Map.of(
                        "ASFC_EVENT", "failover",
                        "ASFC_NODE", "b",
                        "ASFC_CLUSTER", "prod",
                        "ASFC_REASON", "from a to b: a's agent is gone",
                        "ASFC_EPOCH", "42",
                        "ASFC_AT", "2026-12-07T21:00:00Z"),
                event.environment());
    }

    @Test
    void anAlertAlsoNamesItsKindAndNodeAndAnUnknownEpochIsEmpty() {
        HookEvent event = new HookEvent(
                "alert",
                "prod",
                "b",
                "the scheduler moved",
                OptionalLong.empty(),
                AT,
                new HookEvent.AlertPart("scheduler-moved", "a"));

        Map<String, String> env = event.environment();
        assertEquals("", env.get("ASFC_EPOCH"));
        assertEquals("scheduler-moved", env.get("ASFC_ALERT"));
        assertEquals("a", env.get("ASFC_ALERT_NODE"));
    }

    @Test
    void theWebhookBodyFollowsSchemaVersion1() throws Exception {
        HookEvent event = new HookEvent("self-fenced", "prod", "a", "stopped", OptionalLong.of(7), AT, null);

        JsonNode body = Json.mapper().readTree(Json.encode(event.payload()));

        assertEquals(1, body.get("schemaVersion").asInt());
        assertEquals("self-fenced", body.get("event").asText());
        assertEquals("prod", body.get("cluster").asText());
        assertEquals("a", body.get("node").asText());
        assertEquals("stopped", body.get("reason").asText());
        assertEquals(7, body.get("epoch").asLong());
        assertEquals("2026-12-07T21:00:00Z", body.get("at").asText());
        assertEquals("[asfc prod] a: self-fenced: stopped", body.get("text").asText());
        assertFalse(body.has("alert"), body.toString());
    }

    @Test
    void anUnknownEpochIsNullInTheBodyAndAnAlertHasItsPart() throws Exception {
        HookEvent event = new HookEvent(
                "alert", "prod", "b", "x", OptionalLong.empty(), AT, new HookEvent.AlertPart("quarantine", "c"));

        JsonNode body = Json.mapper().readTree(Json.encode(event.payload()));

        assertEquals(true, body.get("epoch").isNull(), body.toString());
        assertEquals("quarantine", body.get("alert").get("kind").asText());
        assertEquals("c", body.get("alert").get("node").asText());
    }
}
