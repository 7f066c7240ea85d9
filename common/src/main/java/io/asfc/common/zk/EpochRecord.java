package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Objects;

/**
 * The {@code epoch} znode. Its ZooKeeper version is the epoch, the fencing token: each new leader
 * bumps it in a transaction that also checks the leader's latch node. The data repeats it for zkCli.
 */
public record EpochRecord(String node, @JsonProperty(required = true) long epoch, Instant at) {
    public EpochRecord {
        Names.require("epoch holder", node);
        Objects.requireNonNull(at, "at");
    }
}
