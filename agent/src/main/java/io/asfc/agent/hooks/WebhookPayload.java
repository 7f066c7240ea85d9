package io.asfc.agent.hooks;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * The JSON a webhook receives for one event. Fields are added, never renamed or removed, without
 * a new {@code schemaVersion}; receivers should ignore fields they do not know.
 *
 * @param epoch null when this agent knows no epoch yet
 * @param alert only for {@code alert} and {@code alert-recovered} events
 * @param text one human-readable line, which a Slack incoming webhook shows as the message
 */
public record WebhookPayload(
        int schemaVersion,
        String event,
        String cluster,
        String node,
        String reason,
        Long epoch,
        Instant at,
        @JsonInclude(JsonInclude.Include.NON_NULL) HookEvent.AlertPart alert,
        String text) {
    public static final int SCHEMA_VERSION = 1;
}
