package io.asfc.agent.controller;

import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which nodes may run the scheduler, in which order. Pure: decided from a {@link ClusterView}.
 * Eligible means: listed in {@code nodes} (or any agent when the list is empty), with a live agent
 * whose record is readable, fewer than {@code maxFailures} failures in a row, and not quarantined.
 * An agentless node needs no agent, but must not be quarantined or unreachable over SSH.
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
        if (isAgentless(node)) {
            if (view.quarantined().containsKey(node)) {
                return "quarantined: " + view.quarantined().get(node).reason();
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
        if (view.quarantined().containsKey(node)) {
            return "quarantined: " + view.quarantined().get(node).reason();
        }
        if (agent.scheduler().failures() >= maxFailures) {
            return agent.scheduler().failures() + " failures in a row";
        }
        return null;
    }

    Optional<String> firstEligible(ClusterView view) {
        return order(view).stream().filter(n -> eligible(view, n)).findFirst();
    }

    /** The first eligible node after {@code current} in order, wrapping around; never current. */
    Optional<String> nextEligible(ClusterView view, String current) {
        List<String> order = order(view);
        int at = order.indexOf(current);
        for (int i = 1; i <= order.size(); i++) {
            String candidate = order.get(((at < 0 ? -1 : at) + i) % order.size());
            if (!candidate.equals(current) && eligible(view, candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * The quarantined nodes that get another chance: a node whose agent reports a clean start, and
     * an agentless node when no node is eligible (no agent can report a clean start for it).
     */
    List<String> quarantinesToLift(ClusterView view) {
        boolean noneEligible = firstEligible(view).isEmpty();
        List<String> lifts = new ArrayList<>();
        for (String node : view.quarantined().keySet()) {
            if (isAgentless(node) && noneEligible) {
                // No agent can report a clean start for it: it gets another chance when nothing else can run.
                lifts.add(node);
                continue;
            }
            AgentRecord agent = view.agent(node);
            if (agent != null && agent.scheduler().failures() == 0) {
                lifts.add(node);
            }
        }
        return lifts;
    }
}
