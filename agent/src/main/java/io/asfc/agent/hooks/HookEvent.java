package io.asfc.agent.hooks;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One event as hooks see it: what the event log recorded, or an alert, with the cluster and the
 * newest epoch this agent knows. Pure data; {@link #environment()} and {@link #payload()} are what
 * the command and the webhook receive.
 *
 * @param type the event type, e.g. {@code scheduler-moving}, or {@code alert} / {@code alert-recovered}
 * @param node the node id of the agent that recorded it (this one)
 * @param reason what happened, in words
 * @param epoch the newest leadership epoch this agent knows, if any
 * @param alert the alert's kind and node, for an alert; null otherwise
 */
public record HookEvent(
        String type, String cluster, String node, String reason, OptionalLong epoch, Instant at, AlertPart alert) {

    /** The alert an event is about: its kind (e.g. {@code scheduler-moved}) and the node concerned (may be null). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AlertPart(String kind, String node) {}

    public HookEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(at, "at");
        reason = reason == null ? "" : reason;
        epoch = epoch == null ? OptionalLong.empty() : epoch;
    }

    /** The variables a hook command gets, as documented in reference.conf. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ASFC_EVENT", type);
        env.put("ASFC_NODE", node);
        env.put("ASFC_CLUSTER", cluster);
        env.put("ASFC_REASON", reason);
        env.put("ASFC_EPOCH", epoch.isPresent() ? Long.toString(epoch.getAsLong()) : "");
        env.put("ASFC_AT", at.toString());
        if (alert != null) {
            env.put("ASFC_ALERT", alert.kind());
            env.put("ASFC_ALERT_NODE", alert.node() == null ? "" : alert.node());
        }
        return env;
    }

    /** The webhook's JSON body (schema version 1, documented in docs/RUNBOOK.md). */
    public WebhookPayload payload() {
        return new WebhookPayload(
                WebhookPayload.SCHEMA_VERSION,
                type,
                cluster,
                node,
                reason,
                epoch.isPresent() ? epoch.getAsLong() : null,
                at,
                alert,
                text());
    }

    /** One line for a chat channel, e.g. {@code [asfc default] a: scheduler-moving: ...}. */
    public String text() {
        String what = alert == null ? type : type + " " + alert.kind();
        return "[asfc " + cluster + "] " + node + ": " + what + (reason.isEmpty() ? "" : ": " + reason);
    }
}
