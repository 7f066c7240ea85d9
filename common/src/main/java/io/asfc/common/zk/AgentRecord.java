package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
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

    /**
     * What the agent reports about its local scheduler.
     *
     * @param starting true while a start is in progress (a start-command may run for start-timeout)
     * @param observed the generation ({@code mzxid}) of the {@code scheduler} znode that the
     *     supervisor last <em>acted on</em>: set only once its scheduler matches that assignment. Null
     *     in a record of an older agent, or before the first decision: it then proves nothing.
     */
    public record SchedulerState(
            @JsonProperty(required = true) boolean running,
            @JsonProperty(required = true) boolean healthy,
            Long pid,
            Instant since,
            @JsonProperty(required = true) int failures,
            Boolean starting,
            Long observed) {
        public static final SchedulerState STOPPED = new SchedulerState(false, false, null, null, 0, false, null);

        /**
         * True when this report proves the agent has seen the assignment of generation
         * {@code generation} (or a later one) and has no scheduler running or starting.
         */
        public boolean provesStoppedSince(long generation) {
            return !running && Boolean.FALSE.equals(starting) && observed != null && observed >= generation;
        }
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
