package io.asfc.agent.controller;

import io.asfc.agent.controller.Action.Lift;
import io.asfc.agent.controller.Action.NodeWrite;
import io.asfc.agent.controller.Action.Quarantine;
import io.asfc.agent.controller.Action.Recovered;
import io.asfc.agent.controller.Placement.Situation;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * How a quarantine heals, decided from the view and the leader's wall clock, without effects. A
 * node that failed too often is quarantined for {@code quarantine-backoff}, doubled at each
 * quarantine in a row up to {@code max-quarantine-backoff}. When it ends, the node is lifted for one
 * attempt: its record keeps {@code failuresAtLift}, its failure count then, so the count its agent
 * still reports (an agent clears it only after a clean run) does not quarantine it again at once;
 * one failure more does, for twice as long. A count below {@code failuresAtLift} (the agent cleared
 * it after a clean run, or restarted) forgets the node's failures. So a fault shared by every node
 * heals by itself once it ends, with no agent restarted.
 */
final class Quarantines {
    private final Policy policy;
    private final Duration backoff;
    private final Duration maxBackoff;

    Quarantines(Policy policy, Duration backoff, Duration maxBackoff) {
        this.policy = policy;
        this.backoff = backoff;
        this.maxBackoff = maxBackoff;
    }

    /**
     * The lifts, clears and re-quarantines due now, for every node but the assigned one (whose
     * re-quarantine comes with its move, in {@link Placement}).
     */
    void review(Situation s, String assigned, List<Action> out) {
        ClusterView view = s.view();
        Instant now = Instant.ofEpochMilli(s.nowMillis());
        boolean noneEligible = policy.firstEligible(view).isEmpty();
        for (Map.Entry<String, NodeRecord> e : view.nodes().entrySet()) {
            String node = e.getKey();
            NodeRecord r = e.getValue();
            boolean agentless = policy.isAgentless(node);
            AgentRecord agent = view.agent(node);
            int failures = failures(s, node);
            if (r.quarantined()) {
                if (!agentless && agent != null && failures == 0) {
                    out.add(new Lift(
                            new NodeWrite(node, r.withoutFailures()), node + "'s agent reports a clean start"));
                } else if (!now.isBefore(r.endsAt(backoff))) {
                    out.add(new Lift(
                            new NodeWrite(node, r.lift(now, failures)),
                            "its quarantine of " + human(r.backoffMillis()) + " ended; it gets one attempt"));
                } else if (agentless && noneEligible) {
                    // No agent can report a clean start for it: it gets another chance when nothing else can run.
                    out.add(new Lift(
                            new NodeWrite(node, r.lift(now, failures)), "no node is eligible; it gets one attempt"));
                }
            } else if (r.onTrial()) {
                boolean clean = agentless
                        ? s.agentlessRunning().contains(node) && failures == 0
                        : agent != null && failures < r.failuresAtLift();
                if (clean) {
                    out.add(new Recovered(
                            new NodeWrite(node, r.withoutFailures()),
                            "its scheduler ran cleanly; its failures are forgotten"));
                } else if (!node.equals(assigned) && (agent != null || agentless) && failures >= limit(view, node)) {
                    out.add(quarantine(s, node, failures, "failed again after its quarantine was lifted"));
                }
            }
        }
    }

    /** Quarantines {@code node}: one more in a row than its record says, for the doubled backoff. */
    Quarantine quarantine(Situation s, String node, int failures, String why) {
        NodeRecord before = s.view().node(node);
        int count = (before == null ? 0 : before.quarantines()) + 1;
        Duration lasts = backoff(count);
        NodeRecord base = before == null ? new NodeRecord(node, false, 0, null, null) : before;
        NodeRecord record = base.quarantine(
                failures,
                "failed " + failures + " times in a row" + (count > 1 ? " (" + why + ")" : ""),
                Instant.ofEpochMilli(s.nowMillis()),
                lasts,
                count);
        return new Quarantine(node, failures, policy.isAgentless(node), record);
    }

    /** The failure count at which {@code node} is quarantined: one attempt after a lift. */
    int limit(ClusterView view, String node) {
        return policy.failureLimit(view, node);
    }

    /** {@code backoff} doubled {@code count - 1} times, at most {@code maxBackoff}. */
    Duration backoff(int count) {
        Duration d = backoff;
        for (int i = 1; i < count && d.compareTo(maxBackoff) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    /**
     * The node's failures in a row: its agent's count, the leader's for an agentless node, and for a
     * node whose agent is away the count its record last saw.
     */
    int failures(Situation s, String node) {
        AgentRecord agent = s.view().agent(node);
        if (agent != null) {
            return agent.scheduler().failures();
        }
        if (policy.isAgentless(node)) {
            return s.agentlessFailures().getOrDefault(node, 0);
        }
        NodeRecord r = s.view().node(node);
        return r == null ? 0 : r.failures();
    }

    private String human(Long millis) {
        Duration d = millis == null ? backoff : Duration.ofMillis(millis);
        return d.toSeconds() >= 60 && d.toSecondsPart() == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
