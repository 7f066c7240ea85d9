package io.asfc.common.zk;

import java.time.Instant;
import java.util.Objects;

/** The ephemeral {@code agents/<node>} znode that each live agent keeps fresh. */
public record AgentRecord(
        String node,
        String host,
        long pid,
        String version,
        Role role,
        SchedulerState scheduler,
        Heartbeat heartbeat,
        Instant startedAt) {

    public AgentRecord {
        Names.require("agent node", node);
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(startedAt, "startedAt");
    }

    /** The agent's controller role. */
    public enum Role {
        ACTIVE,
        STANDBY
    }

    /** What the agent reports about its local scheduler. */
    public record SchedulerState(boolean running, boolean healthy, Long pid, Instant since, int failures) {
        public static final SchedulerState STOPPED = new SchedulerState(false, false, null, null, 0);
    }

    /** {@code seq} grows by one at every refresh; the leader watches it on its own monotonic clock. */
    public record Heartbeat(long seq, Instant at) {
        public Heartbeat {
            Objects.requireNonNull(at, "at");
        }
    }

    public AgentRecord withRole(Role newRole) {
        return new AgentRecord(node, host, pid, version, newRole, scheduler, heartbeat, startedAt);
    }

    public AgentRecord withHeartbeat(Heartbeat beat, SchedulerState state) {
        return new AgentRecord(node, host, pid, version, role, state, beat, startedAt);
    }
}
