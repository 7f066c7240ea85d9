package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * The persistent {@code control} znode: operator requests, written by the command line, and the
 * leader's answer to the last one.
 *
 * @param paused while true, no agent starts or stops a scheduler and the leader moves nothing
 * @param failoverTo a requested move (a node id, or "" for "the next eligible node"); null if none
 * @param requestId identifies the request, so that the command line can find its answer
 * @param result the leader's answer to {@code requestId}, e.g. "moved to b" or "refused: ..."
 */
public record ControlRecord(
        @JsonProperty(required = true) boolean paused,
        String failoverTo,
        String requestId,
        Instant requestedAt,
        String result,
        Instant resultAt) {

    public static final ControlRecord NONE = new ControlRecord(false, null, null, null, null, null);

    public ControlRecord {
        if (failoverTo != null && !failoverTo.isEmpty()) {
            Names.require("failover target", failoverTo);
        }
    }

    public ControlRecord withPaused(boolean value) {
        return new ControlRecord(value, failoverTo, requestId, requestedAt, result, resultAt);
    }

    public ControlRecord withRequest(String target, String id, Instant at) {
        return new ControlRecord(paused, target, id, at, null, null);
    }

    public ControlRecord withResult(String text, Instant at) {
        return new ControlRecord(paused, null, requestId, requestedAt, text, at);
    }
}
