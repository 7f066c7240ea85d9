package io.asfc.agent.controller;

import io.asfc.agent.controller.Action.BeginMove;
import io.asfc.agent.controller.Action.NodeWrite;
import io.asfc.agent.controller.Action.Operate;
import io.asfc.agent.controller.Placement.Situation;
import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An operator's request about one node ({@code cordon}, {@code uncordon}, {@code drain}, {@code
 * unquarantine}, {@code reset-failures}), filed in {@code control} and answered by the leader, which
 * writes {@code nodes/<node>} (it owns those records) in the same fenced transaction as the answer.
 * Decided without effects, like {@link Placement}. A drain of the node that holds the scheduler is a
 * {@link BeginMove}: it leaves the node only under the leave-rule.
 */
final class NodeRequests {
    private final Policy policy;
    private final Quarantines quarantines;

    NodeRequests(Policy policy, Quarantines quarantines) {
        this.policy = policy;
        this.quarantines = quarantines;
    }

    /**
     * Answers the pending node request, if any, and returns the view as the writes leave it (the rest
     * of the decision works on that); a drain that moves the scheduler ends with a {@link BeginMove}.
     */
    ClusterView handle(Situation s, boolean paused, List<Action> out) {
        ClusterView view = s.view();
        if (!view.control().present() || !view.control().value().nodeRequestPending()) {
            return view;
        }
        ControlRecord c = view.control().value();
        if (FailoverRequest.expired(c, s.nowMillis())) {
            out.add(new Operate(List.of(), null, null, FailoverRequest.expiredText(c)));
            return view;
        }
        String node = c.opNode();
        String by = c.requestedBy() == null ? "an operator" : c.requestedBy();
        if (node == null && !ControlRecord.RESET_FAILURES.equals(c.op())) {
            out.add(new Operate(List.of(), null, null, "refused: '" + c.op() + "' names no node"));
            return view;
        }
        if (node != null && !policy.nodes().isEmpty() && !policy.nodes().contains(node)) {
            out.add(new Operate(
                    List.of(), null, null, "refused: unknown node '" + node + "': asfc.nodes is " + policy.nodes()));
            return view;
        }
        Instant now = Instant.ofEpochMilli(s.nowMillis());
        List<NodeWrite> writes = new ArrayList<>();
        switch (c.op()) {
            case ControlRecord.CORDON -> cordon(view, node, by, now, writes, out, false);
            case ControlRecord.UNCORDON -> uncordon(view, node, by, writes, out);
            case ControlRecord.DRAIN -> {
                if (paused) {
                    out.add(
                            new Operate(
                                    List.of(),
                                    null,
                                    null,
                                    "refused: the cluster is paused, nothing moves until 'asfc-agent resume'; nothing changed"));
                } else {
                    drain(view, c, node, by, now, writes, out);
                }
            }
            case ControlRecord.UNQUARANTINE -> unquarantine(s, node, by, now, writes, out);
            case ControlRecord.RESET_FAILURES -> resetFailures(s, node, by, now, writes, out);
            default -> out.add(new Operate(List.of(), null, null, "refused: unknown request '" + c.op() + "'"));
        }
        for (NodeWrite w : writes) {
            view = view.withNode(w.node(), w.record());
        }
        return view;
    }

    private void cordon(
            ClusterView view,
            String node,
            String by,
            Instant now,
            List<NodeWrite> writes,
            List<Action> out,
            boolean quietly) {
        NodeRecord r = view.node(node);
        if (r != null && r.hasCordon()) {
            if (!quietly) {
                out.add(new Operate(
                        List.of(),
                        null,
                        null,
                        "done: " + node + " was already cordoned (by " + r.cordonedBy() + " since " + r.cordonedAt()
                                + ")"));
            }
            return;
        }
        writes.add(new NodeWrite(node, r == null ? NodeRecord.cordon(node, by, now) : r.withCordon(by, now)));
        if (!quietly) {
            out.add(new Operate(
                    List.copyOf(writes),
                    "node-cordoned",
                    node + " by " + by,
                    "done: " + node + " is cordoned: it is never chosen to run the scheduler" + where(view, node)));
        }
    }

    private void uncordon(ClusterView view, String node, String by, List<NodeWrite> writes, List<Action> out) {
        NodeRecord r = view.node(node);
        if (r == null || !r.hasCordon()) {
            out.add(new Operate(List.of(), null, null, "done: " + node + " was not cordoned"));
            return;
        }
        writes.add(new NodeWrite(node, r.withoutCordon()));
        out.add(new Operate(
                List.copyOf(writes),
                "node-uncordoned",
                node + " by " + by,
                "done: " + node + " is no longer cordoned: it may run the scheduler again"));
    }

    private void drain(
            ClusterView view,
            ControlRecord c,
            String node,
            String by,
            Instant now,
            List<NodeWrite> writes,
            List<Action> out) {
        Assignment a = view.assignment().present() ? view.assignment().value() : null;
        if (a != null && !a.isMoving() && node.equals(a.node())) {
            Optional<String> to = policy.nextEligible(view, node);
            if (to.isEmpty()) {
                out.add(new Operate(
                        List.of(),
                        null,
                        null,
                        "refused: no other node is eligible to take the scheduler from " + node + "; nothing changed"));
                return;
            }
            cordon(view, node, by, now, writes, out, true);
            if (!writes.isEmpty()) {
                out.add(new Operate(List.copyOf(writes), "node-cordoned", node + " by " + by + " (drain)", null));
            }
            out.add(new BeginMove(
                    node, to.get(), "drain of " + node + " by " + by, c.requestId(), FailoverReason.OPERATOR));
            return;
        }
        cordon(view, node, by, now, writes, out, true);
        out.add(new Operate(
                List.copyOf(writes),
                writes.isEmpty() ? null : "node-cordoned",
                node + " by " + by + " (drain)",
                "done: " + node + " is cordoned" + where(view, node)));
    }

    private void unquarantine(
            Situation s, String node, String by, Instant now, List<NodeWrite> writes, List<Action> out) {
        ClusterView view = s.view();
        NodeRecord r = view.node(node);
        int failures = quarantines.failures(s, node);
        boolean hasAgent = view.agent(node) != null;
        if (r != null && r.quarantined()) {
            boolean clean = hasAgent && failures == 0;
            writes.add(new NodeWrite(node, clean ? r.withoutFailures() : r.lift(now, failures)));
        } else if (hasAgent && failures >= policy.failureLimit(view, node)) {
            // no quarantine recorded (cleared by clear-metadata, or failed on its trial), but its count keeps it out
            NodeRecord base = r == null ? new NodeRecord(node, false, 0, null, null) : r;
            writes.add(new NodeWrite(node, base.lift(now, failures)));
        } else {
            out.add(new Operate(List.of(), null, null, "done: " + node + " is not quarantined"));
            return;
        }
        out.add(new Operate(
                List.copyOf(writes),
                "node-unquarantined",
                node + " by " + by + "; it gets one attempt",
                "done: " + node + "'s quarantine is lifted: it may run the scheduler (one more failure quarantines it"
                        + " again)"));
    }

    private void resetFailures(
            Situation s, String node, String by, Instant now, List<NodeWrite> writes, List<Action> out) {
        ClusterView view = s.view();
        Set<String> targets = new LinkedHashSet<>();
        if (node != null) {
            targets.add(node);
        } else {
            targets.addAll(view.nodes().keySet());
            targets.addAll(policy.order(view));
        }
        List<String> reset = new ArrayList<>();
        for (String n : targets) {
            NodeRecord r = view.node(n);
            int failures = quarantines.failures(s, n);
            NodeRecord base = r == null ? new NodeRecord(n, false, 0, null, null) : r;
            NodeRecord next = base.reset(now, failures);
            if (r == null && next == null) {
                continue;
            }
            if (r != null && next != null && sameFailures(r, next)) {
                continue; // already reset at this count
            }
            writes.add(new NodeWrite(n, next));
            reset.add(n);
        }
        if (reset.isEmpty()) {
            out.add(new Operate(
                    List.of(), null, null, "done: " + (node == null ? "no node" : node) + " had no failures to reset"));
            return;
        }
        out.add(new Operate(
                List.copyOf(writes),
                "failures-reset",
                String.join(", ", reset) + " by " + by,
                "done: failures reset on " + String.join(", ", reset)));
    }

    private static boolean sameFailures(NodeRecord a, NodeRecord b) {
        return !a.quarantined() && a.count() == null && Objects.equals(a.failuresAtLift(), b.failuresAtLift());
    }

    private static String where(ClusterView view, String node) {
        if (!view.assignment().present()) {
            return "; nothing is assigned";
        }
        Assignment a = view.assignment().value();
        if (a.isMoving()) {
            return "; the scheduler is being moved" + (node.equals(a.movingFrom()) ? " away from " + node : "");
        }
        return node.equals(a.node())
                ? "; the scheduler stays on " + node + " until it moves ('asfc-agent drain " + node + "' moves it)"
                : "; the scheduler is assigned to " + a.node();
    }
}
