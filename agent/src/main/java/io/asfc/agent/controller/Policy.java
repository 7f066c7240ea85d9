package io.asfc.agent.controller;

import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Names;
import io.asfc.common.zk.NodeRecord;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which nodes may run the scheduler, in which order. Pure: decided from a {@link ClusterView}.
 * Eligible means: listed in {@code nodes} (or any agent when the list is empty), not cordoned, with
 * a live agent whose record is readable, fewer failures in a row than its {@link #failureLimit}, and
 * not quarantined. An agentless node needs no agent, but must not be cordoned, quarantined or
 * unreachable over SSH.
 */
public record Policy(List<String> nodes, Set<String> agentless, int maxFailures) {

    boolean isAgentless(String node) {
        return agentless.contains(node);
    }

    List<String> order(ClusterView view) {
        if (!nodes.isEmpty()) {
            return nodes;
        }
        // child names of agents/ come from ZooKeeper unvalidated: one made by hand must not wedge the loop (S5)
        return view.agents().keySet().stream().filter(Names::isValid).sorted().toList();
    }

    boolean eligible(ClusterView view, String node) {
        return whyNot(view, node) == null;
    }

    /** Why a node is not eligible, or null if it is. */
    String whyNot(ClusterView view, String node) {
        if (!nodes.isEmpty() && !nodes.contains(node)) {
            return "not in asfc.nodes " + nodes;
        }
        NodeRecord record = view.node(node);
        if (record != null && record.hasCordon()) {
            return "cordoned" + (record.cordonedBy() == null ? "" : " by " + record.cordonedBy())
                    + (record.cordonedAt() == null ? "" : " since " + record.cordonedAt())
                    + "; 'asfc-agent uncordon " + node + "' gives it back";
        }
        if (isAgentless(node)) {
            if (record != null && record.quarantined()) {
                return quarantined(record);
            }
            return view.unreachable().containsKey(node)
                    ? "unreachable over SSH: " + view.unreachable().get(node)
                    : null;
        }
        if (!view.agents().containsKey(node)) {
            return "no live agent";
        }
        AgentRecord agent = view.agent(node);
        if (agent == null) {
            return "its agent's record is unreadable";
        }
        if (record != null && record.quarantined()) {
            return quarantined(record);
        }
        if (agent.scheduler().failures() >= failureLimit(view, node)) {
            return record != null && record.onTrial()
                    ? "failed again after its quarantine was lifted"
                    : agent.scheduler().failures() + " failures in a row";
        }
        return null;
    }

    private static String quarantined(NodeRecord r) {
        return "quarantined" + (r.until() == null ? "" : " until " + r.until()) + ": " + r.reason();
    }

    Optional<String> firstEligible(ClusterView view) {
        return order(view).stream().filter(n -> eligible(view, n)).findFirst();
    }

    /** The first eligible node after {@code current} in order, wrapping around; never current. */
    Optional<String> nextEligible(ClusterView view, String current) {
        List<String> order = order(view);
        int at = order.indexOf(current); // -1 when current is not in order: from the first
        for (int i = 1; i <= order.size(); i++) {
            String candidate = order.get((at + i) % order.size());
            if (!candidate.equals(current) && eligible(view, candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * The failure count at which {@code node} is quarantined: {@code maxFailures}, or, while its
     * quarantine is lifted for one attempt, one more than its count at the lift.
     */
    int failureLimit(ClusterView view, String node) {
        NodeRecord r = view.node(node);
        return r != null && r.onTrial() ? r.failuresAtLift() + 1 : maxFailures;
    }
}
