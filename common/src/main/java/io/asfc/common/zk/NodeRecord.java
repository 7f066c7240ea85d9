package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * The leader-owned {@code nodes/<node>} znode: why a node is not eligible to run the scheduler.
 *
 * @param quarantined true after the node failed {@code failures} times in a row; lifted when its
 *     agent reports a fresh start (failures back to 0)
 */
public record NodeRecord(
        String node, @JsonProperty(required = true) boolean quarantined, int failures, String reason, Instant at) {
    public NodeRecord {
        Names.require("node", node);
    }
}
