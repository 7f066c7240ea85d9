package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Objects;

/** The {@code active} znode: which node is the ACTIVE controller, at which epoch, since when. */
public record ActiveRecord(String node, @JsonProperty(required = true) long epoch, Instant since) {
    public ActiveRecord {
        Names.require("active node", node);
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be positive, not " + epoch);
        }
        Objects.requireNonNull(since, "since");
    }
}
