package io.asfc.agent.doctor;

import io.asfc.agent.doctor.Finding.Severity;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code doctor} reports, and exactly what {@code doctor --json} prints: a stable schema,
 * documented in docs/RUNBOOK.md. Fields are added, never renamed or removed, without a new {@code
 * schemaVersion}. A value that could not be found out is null.
 */
public record DoctorReport(
        int schemaVersion,
        Severity status,
        int exitCode,
        String cluster,
        String path,
        Instant checkedAt,
        ZooKeeperView zookeeper,
        ActiveView active,
        SchedulerView scheduler,
        boolean paused,
        S4View s4Budget,
        List<NodeView> nodes,
        List<Finding> findings) {

    public static final int SCHEMA_VERSION = 1;

    /** @param latencyMillis one round trip to the ensemble once connected */
    public record ZooKeeperView(String connect, boolean reachable, Long latencyMillis, String error) {}

    /**
     * @param node the node the {@code active} znode names
     * @param agreed the {@code active} znode, the epoch znode and the agents' reported roles all name
     *     the same single ACTIVE controller
     */
    public record ActiveView(String node, Long epoch, boolean agreed) {}

    /**
     * @param assignedTo the node the {@code scheduler} znode names; null when unassigned or moving
     * @param movingFrom during a move, the node it leaves
     * @param running what the assigned node's agent reports; null when nobody reports (no agent, agentless)
     */
    public record SchedulerView(
            String assignedTo, Long epoch, String movingFrom, Boolean running, Boolean healthy, Boolean starting) {}

    /** @param problem why the S4 budget of this config does not hold; null when it holds */
    public record S4View(boolean holds, String problem) {}

    /**
     * One configured node.
     *
     * @param agent {@code present}, {@code absent}, {@code malformed} (garbage in {@code agents/<node>}),
     *     {@code agentless} (configured without an agent) or {@code unknown} (ZooKeeper unreachable)
     * @param clockSkewMillis the agent's clock minus ZooKeeper's: its last heartbeat's {@code at} minus
     *     the {@code mtime} ZooKeeper gave that same write; positive means the agent's clock is ahead
     */
    public record NodeView(
            String node,
            Severity status,
            String agent,
            String host,
            String version,
            String role,
            Boolean schedulerRunning,
            Instant heartbeatAt,
            Long clockSkewMillis,
            boolean quarantined,
            boolean cordoned,
            SshView ssh) {}

    /**
     * A node's timed SSH probe ({@code true} through the remote user's login shell, over a new session).
     *
     * @param phasesMillis {@code connect}, {@code authenticate}, {@code shellStart}, {@code command}: each
     *     phase that was started, in milliseconds
     * @param failedIn the phase that failed (same names); null when the probe passed
     * @param slowest the phase that took longest
     * @param verdict one line: "ok", or what failed and where
     */
    public record SshView(
            boolean ok, Map<String, Long> phasesMillis, String failedIn, String slowest, String verdict) {}
}
