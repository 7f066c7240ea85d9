package io.asfc.agent.controller;

import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What one leader saw and did during its term, and only during it: a new term starts empty, so
 * nothing a leader saw before it was deposed (an unreachable host, a stop over SSH) is trusted.
 * Touched only on the controller thread.
 */
final class ControllerMemory {
    /**
     * A stop of a node's scheduler over SSH, queued while the {@code scheduler} znode was at
     * {@code generation}: in flight until {@code ok} is set.
     */
    record HostStop(long generation, long atNanos, Boolean ok, String detail) {
        boolean inFlight() {
            return ok == null;
        }

        /** (b): a confirmed stop that started after the unassignment of {@code unassigned}. */
        boolean provesStoppedSince(long unassigned) {
            return Boolean.TRUE.equals(ok) && generation >= unassigned;
        }
    }

    private final Map<String, Long> missingSince = new HashMap<>();
    private final Map<String, HostStop> hostStops = new HashMap<>();
    private final Map<String, String> unreachable = new LinkedHashMap<>();
    /** For failback: since when each node has been eligible, without a break this leader saw. */
    private final Map<String, Long> eligibleSince = new HashMap<>();
    /** For failback: the node this leader has seen run the scheduler healthy without a break, and since when. */
    private String healthyNode;

    private long healthySince;
    /** Why this leader began the move under way, for the failover metric; null when another leader did. */
    private FailoverReason moveReason;
    /** Whether the no-eligible-node alert went out and no assignment has followed it. */
    private boolean noEligibleReported;

    /** {@link #observe(ClusterView, Policy, long, Set)} with no agentless scheduler seen running. */
    void observe(ClusterView view, Policy policy, long now) {
        observe(view, policy, now, Set.of());
    }

    /**
     * When {@code agents/<node>} is absent, for (c): from when this leader first saw it so. And for
     * failback: since when each node is eligible, and since when the assigned node runs the scheduler
     * healthy (its agent says so; an agentless node, while the leader last saw it running).
     *
     * @param agentlessRunning agentless nodes whose scheduler the leader last saw running
     */
    void observe(ClusterView view, Policy policy, long now, Set<String> agentlessRunning) {
        for (String node : policy.order(view)) {
            if (policy.eligible(view, node)) {
                eligibleSince.putIfAbsent(node, now);
            } else {
                eligibleSince.remove(node);
            }
        }
        String holder = view.assignment().present() ? view.assignment().value().node() : null;
        AgentRecord agent = holder == null ? null : view.agent(holder);
        boolean healthy = agent != null
                ? agent.scheduler().running() && agent.scheduler().healthy()
                : holder != null && policy.isAgentless(holder) && agentlessRunning.contains(holder);
        if (!healthy) {
            healthyNode = null;
        } else if (!holder.equals(healthyNode)) {
            healthyNode = holder;
            healthySince = now;
        }
        for (String node : policy.order(view)) {
            if (view.agents().containsKey(node)) {
                seenPresent(node);
            } else if (!policy.isAgentless(node)) {
                seenAbsent(node, now);
            }
        }
        if (view.assignment().present()) {
            Assignment a = view.assignment().value();
            for (String node : Arrays.asList(a.node(), a.movingFrom())) {
                if (node != null && !view.agents().containsKey(node) && !policy.isAgentless(node)) {
                    seenAbsent(node, now);
                }
            }
        }
    }

    /** Since when this leader has seen {@code node} run the scheduler healthy without a break, or null. */
    Long healthySince(String node) {
        return node.equals(healthyNode) ? healthySince : null;
    }

    /** Since when this leader has seen {@code node} eligible without a break, or null. */
    Long eligibleSince(String node) {
        return eligibleSince.get(node);
    }

    /** When this leader first saw {@code agents/<node>} absent (monotonic nanos), or null. */
    Long missingSince(String node) {
        return missingSince.get(node);
    }

    void seenAbsent(String node, long now) {
        missingSince.putIfAbsent(node, now);
    }

    void seenPresent(String node) {
        missingSince.remove(node);
    }

    HostStop hostStop(String node) {
        return hostStops.get(node);
    }

    void hostStopQueued(String node, long generation, long now) {
        hostStops.put(node, new HostStop(generation, now, null, "in flight"));
    }

    void hostStopDone(String node, boolean ok, String detail, long now) {
        HostStop queued = hostStops.get(node);
        if (queued != null) {
            hostStops.put(node, new HostStop(queued.generation(), now, ok, detail));
        }
    }

    FailoverReason moveReason() {
        return moveReason;
    }

    void moveReason(FailoverReason why) {
        moveReason = why;
    }

    /** Returns true the first time since the last assignment. */
    boolean reportNoEligible() {
        boolean first = !noEligibleReported;
        noEligibleReported = true;
        return first;
    }

    /** Returns true when the no-eligible-node alert was out. */
    boolean assigned() {
        boolean wasReported = noEligibleReported;
        noEligibleReported = false;
        return wasReported;
    }

    /** Nodes that cannot be reached over SSH, with why. */
    Map<String, String> unreachable() {
        return unreachable;
    }
}
