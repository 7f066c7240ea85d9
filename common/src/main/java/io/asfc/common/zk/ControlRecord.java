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
 * @param op a request about one node instead of a failover: {@link #CORDON}, {@link #UNCORDON},
 *     {@link #DRAIN}, {@link #UNQUARANTINE} or {@link #RESET_FAILURES}; pending while {@code result}
 *     is null. Null in a failover request, and in a record written before these requests existed.
 * @param opNode the node {@code op} is about; null for {@link #RESET_FAILURES} of every node
 * @param requestedBy who filed the request, {@code user@host}
 */
public record ControlRecord(
        @JsonProperty(required = true) boolean paused,
        String failoverTo,
        String requestId,
        Instant requestedAt,
        String result,
        Instant resultAt,
        Long ttlMillis,
        String op,
        String opNode,
        String requestedBy) {

    public static final ControlRecord NONE =
            new ControlRecord(false, null, null, null, null, null, null, null, null, null);

    public static final String CORDON = "cordon";
    public static final String UNCORDON = "uncordon";
    public static final String DRAIN = "drain";
    public static final String UNQUARANTINE = "unquarantine";
    public static final String RESET_FAILURES = "reset-failures";

    /** The leader's answer while a requested move is under way; the final answer replaces it. */
    public static final String ACCEPTED = "accepted: ";

    public ControlRecord {
        if (failoverTo != null && !failoverTo.isEmpty()) {
            Names.require("failover target", failoverTo);
        }
        if (opNode != null) {
            Names.require("request node", opNode);
        }
        if (ttlMillis != null && ttlMillis <= 0) {
            throw new IllegalArgumentException("ttlMillis must be positive, not " + ttlMillis);
        }
    }

    public ControlRecord withPaused(boolean value) {
        return new ControlRecord(
                value, failoverTo, requestId, requestedAt, result, resultAt, ttlMillis, op, opNode, requestedBy);
    }

    /** A request with no time to live (it waits for a leader however long it takes). */
    public ControlRecord withRequest(String target, String id, Instant at) {
        return new ControlRecord(paused, target, id, at, null, null, null, null, null, null);
    }

    /**
     * A request that expires {@code ttl} after it was written: a leader that sees it later answers
     * "expired" and does not act on it, so a request reported failed never runs.
     */
    public ControlRecord withRequest(String target, String id, Instant at, java.time.Duration ttl) {
        return new ControlRecord(paused, target, id, at, null, null, ttl.toMillis(), null, null, null);
    }

    /**
     * A request about one node ({@code op}, e.g. {@link #CORDON}) by {@code by}, expiring {@code ttl}
     * after it was written, like a failover request; it replaces any earlier request.
     */
    public ControlRecord withNodeRequest(
            String op, String node, String id, Instant at, java.time.Duration ttl, String by) {
        return new ControlRecord(paused, null, id, at, null, null, ttl.toMillis(), op, node, by);
    }

    /** Answers the request: it is no longer pending ({@code failoverTo} null), its id stays. */
    public ControlRecord withResult(String text, Instant at) {
        return new ControlRecord(paused, null, requestId, requestedAt, text, at, ttlMillis, op, opNode, requestedBy);
    }

    /** True while a request is filed and no final or interim answer has been written. */
    public boolean pending() {
        return requestId != null && result == null && (failoverTo != null || op != null);
    }

    /** A request about one node ({@code op}) waiting for the leader. */
    public boolean nodeRequestPending() {
        return op != null && requestId != null && result == null;
    }

    /**
     * Whether the request was filed longer than its time to live ago, by the filer's clock: a leader
     * that sees it now answers "expired" and does not act on it.
     */
    public boolean expiredAt(long nowMillis) {
        return ttlMillis != null && requestedAt != null && nowMillis > requestedAt.toEpochMilli() + ttlMillis;
    }

    /** True when the answer is final (not the "accepted" of a move under way). */
    public boolean answered() {
        return result != null && !result.startsWith(ACCEPTED);
    }
}
