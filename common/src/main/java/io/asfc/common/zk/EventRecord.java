package io.asfc.common.zk;

import java.time.Instant;
import java.util.Objects;

/** One {@code events/event-<seq>} entry of the audit trail. */
public record EventRecord(Instant at, String node, String type, String detail) {
    public EventRecord {
        Objects.requireNonNull(at, "at");
        Names.require("event node", node);
        Objects.requireNonNull(type, "type");
        detail = detail == null ? "" : detail;
    }
}
