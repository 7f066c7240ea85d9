package io.asfc.common.zk;

import java.time.Instant;
import java.util.Objects;

/**
 * The persistent {@code scheduler} znode: where the scheduler must run, written only by the leader.
 *
 * @param node the node that must run it; null while the leader moves it: then no node may run it
 */
public record Assignment(String node, long epoch, Instant assignedAt, String reason) {
    public Assignment {
        if (node != null) {
            Names.require("assigned node", node);
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be positive, not " + epoch);
        }
        Objects.requireNonNull(assignedAt, "assignedAt");
        reason = reason == null ? "" : reason;
    }
}
