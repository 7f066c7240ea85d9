package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Objects;

/**
 * The persistent {@code scheduler} znode: where the scheduler must run, written only by the leader.
 *
 * <p>A move has two phases. First the leader writes {@code node = null} with {@code movingFrom}:
 * nobody may run the scheduler. The <em>generation</em> of that write is the znode's {@code mzxid};
 * the assignment leaves {@code movingFrom} only under the leave-rule (docs/SAFETY.md), then the
 * leader names the new node. Because the move is recorded here, any leader can finish it.
 *
 * @param node the node that must run it; null while the leader moves it: then no node may run it
 * @param movingFrom while {@code node} is null, the node the scheduler is leaving; null means
 *     <em>unknown</em> (an empty, unreadable or older-version znode): then it may still run on any
 *     node, and every node must satisfy the leave-rule
 * @param movingTo while {@code node} is null, the node chosen to run it next (may change)
 * @param requestId the operator request this move answers, if any
 */
public record Assignment(
        String node,
        @JsonProperty(required = true) long epoch,
        Instant assignedAt,
        String reason,
        @JsonInclude(JsonInclude.Include.NON_NULL) String movingFrom,
        @JsonInclude(JsonInclude.Include.NON_NULL) String movingTo,
        @JsonInclude(JsonInclude.Include.NON_NULL) String requestId) {
    public Assignment {
        if (node != null) {
            Names.require("assigned node", node);
            movingFrom = null;
            movingTo = null;
        }
        if (movingFrom != null) {
            Names.require("movingFrom", movingFrom);
        }
        if (movingTo != null) {
            Names.require("movingTo", movingTo);
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be positive, not " + epoch);
        }
        Objects.requireNonNull(assignedAt, "assignedAt");
        reason = reason == null ? "" : reason;
    }

    /** The scheduler runs on {@code node}. */
    public static Assignment to(String node, long epoch, Instant at, String reason) {
        return new Assignment(Objects.requireNonNull(node, "node"), epoch, at, reason, null, null, null);
    }

    /** Nobody may run the scheduler while it leaves {@code from} (null: from wherever it may run). */
    public static Assignment moving(String from, String to, String requestId, long epoch, Instant at, String reason) {
        return new Assignment(null, epoch, at, reason, from, to, requestId);
    }

    @JsonIgnore // not a field of the znode
    public boolean isMoving() {
        return node == null;
    }
}
