package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.controller.Action.Assign;
import io.asfc.agent.controller.Action.BeginMove;
import io.asfc.agent.controller.Action.Lift;
import io.asfc.agent.controller.Action.MoveBlocked;
import io.asfc.agent.controller.Action.MoveCompleted;
import io.asfc.agent.controller.Action.Moved;
import io.asfc.agent.controller.Action.NoEligible;
import io.asfc.agent.controller.Action.NodeWrite;
import io.asfc.agent.controller.Action.Quarantine;
import io.asfc.agent.controller.Action.Recovered;
import io.asfc.agent.controller.Action.StopHost;
import io.asfc.agent.controller.Action.SuperviseAgentless;
import io.asfc.agent.controller.Action.WakeAt;
import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the scheduler runs, decided apart from every effect (STYLE.md, after etcd's {@code raft}):
 * {@link #decide} reads a {@link Situation} (the cluster view, this leader's memory of its term, the
 * time) and returns the {@link Action}s to take; it never writes, never sends and never reads a
 * clock. {@link Controller} executes the actions. Every path that moves the scheduler away from a
 * node (takeover, failed scheduler, operator failover, fill of an absent or unreadable znode, a new
 * leader finishing a move) is a {@link BeginMove} here, and the only way to the second phase, the
 * {@link Assign} of the target, is through {@link LeaveRule#check} for every node the move leaves.
 */
final class Placement {
    /**
     * What one decision sees.
     *
     * @param epoch this leader's epoch
     * @param nowNanos the leader's monotonic clock
     * @param nowMillis the leader's wall clock (only to expire operator requests, filed by wall time)
     * @param busy nodes with SSH work in flight: never assigned until it ends
     * @param agentlessFailures failures in a row of agentless nodes' schedulers, as the leader counted them
     * @param agentlessRunning agentless nodes whose scheduler the leader last saw running
     */
    record Situation(
            ClusterView view,
            ControllerMemory memory,
            long epoch,
            long nowNanos,
            long nowMillis,
            Set<String> busy,
            Map<String, Integer> agentlessFailures,
            Set<String> agentlessRunning) {

        Situation withMemory(ControllerMemory other) {
            return new Situation(view, other, epoch, nowNanos, nowMillis, busy, agentlessFailures, agentlessRunning);
        }

        Situation withView(ClusterView changed) {
            return new Situation(
                    changed, memory, epoch, nowNanos, nowMillis, busy, agentlessFailures, agentlessRunning);
        }
    }

    private final Policy policy;
    private final LeaveRule.Terms terms;

    /** How long after a failed host stop it is tried again (poll-interval). */
    private final long retryStopNanos;

    private final Quarantines quarantines;
    private final NodeRequests requests;
    private final FailbackTerms failback;

    /** Without failback ({@code controller.failback = off}). */
    Placement(Policy policy, LeaveRule.Terms terms, long retryStopNanos, Duration backoff, Duration maxBackoff) {
        this(policy, terms, retryStopNanos, backoff, maxBackoff, FailbackTerms.OFF);
    }

    /**
     * @param backoff the first quarantine of a node ({@code quarantine-backoff}), doubled at each
     *     one in a row up to {@code maxBackoff}
     */
    Placement(
            Policy policy,
            LeaveRule.Terms terms,
            long retryStopNanos,
            Duration backoff,
            Duration maxBackoff,
            FailbackTerms failback) {
        this.policy = policy;
        this.failback = failback;
        this.terms = terms;
        this.retryStopNanos = retryStopNanos;
        this.quarantines = new Quarantines(policy, backoff, maxBackoff);
        this.requests = new NodeRequests(policy, quarantines);
    }

    /**
     * What to do. While the cluster is paused only an operator's node request is answered (a drain
     * is refused): nothing moves and no quarantine changes.
     */
    List<Action> decide(Situation s) {
        List<Action> out = new ArrayList<>();
        if (s.view().paused()) {
            requests.handle(s, true, out);
            return out;
        }
        s = s.withView(requests.handle(s, false, out));
        if (out.stream().anyMatch(x -> x instanceof BeginMove)) {
            return out; // a drain began a move: the rest is decided on the next look
        }
        int before = out.size();
        Znode<Assignment> current = s.view().assignment();
        quarantines.review(
                s,
                current.present() && !current.value().isMoving()
                        ? current.value().node()
                        : null,
                out);
        ClusterView changed = s.view();
        for (Action x : out.subList(before, out.size())) {
            NodeWrite w = x instanceof Lift l ? l.write() : x instanceof Recovered r ? r.write() : null;
            if (w != null) {
                changed = changed.withNode(w.node(), w.record());
            } else if (x instanceof Quarantine q) {
                changed = changed.withNode(q.node(), q.record());
            }
        }
        s = s.withView(changed);
        ClusterView view = s.view();
        Znode<Assignment> a = view.assignment();
        if (!a.present()) {
            Optional<String> runsIt = soleRunner(view);
            if (runsIt.isPresent()) {
                // Unreadable or empty, but exactly one live agent runs the scheduler: naming that
                // node starts nothing anywhere, so it is repaired in place, with no restart (S5).
                out.add(new Assign(
                        runsIt.get(),
                        "repaired an unreadable or missing assignment: " + runsIt.get() + " runs the scheduler"));
            } else {
                // Empty (a new cluster, or cleared) or unreadable: where a scheduler may run is
                // unknown, so this is a move from anywhere, under the leave-rule for every node.
                out.add(new BeginMove(
                        null,
                        policy.firstEligible(view).orElse(null),
                        a.absent() ? "initial assignment" : "the assignment was unreadable",
                        null,
                        FailoverReason.OTHER));
            }
        } else if (a.value().isMoving()) {
            continueMove(s, out);
        } else {
            Situation now = s;
            FailoverRequest.decide(view, policy, s.nowMillis()).ifPresentOrElse(out::add, () -> keepAssigned(now, out));
        }
        return out;
    }

    /**
     * The one node whose live agent reports a running scheduler, when exactly one does and no agent
     * record is unreadable. (A scheduler on an agentless node is not seen here; naming this node
     * still starts nothing, and the sweep stops any other.)
     */
    private Optional<String> soleRunner(ClusterView view) {
        List<String> running = new ArrayList<>();
        for (Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            if (!e.getValue().present()) {
                return Optional.empty();
            }
            if (e.getValue().value().scheduler().running()) {
                running.add(e.getKey());
            }
        }
        return running.size() == 1 && policy.eligible(view, running.get(0))
                ? Optional.of(running.get(0))
                : Optional.empty();
    }

    private void keepAssigned(Situation s, List<Action> out) {
        ClusterView view = s.view();
        Assignment assigned = view.assignment().value();
        String node = assigned.node();
        String kept = "kept by the new leader at epoch " + s.epoch();
        if (policy.isAgentless(node)) {
            if (assigned.epoch() != s.epoch()) {
                out.add(new Assign(node, kept));
            } else {
                keepAgentless(s, node, out);
            }
            return;
        }
        out.add(new SuperviseAgentless(null));
        AgentRecord agent = view.agent(node);
        if (!view.agents().containsKey(node)) {
            out.add(move(
                    view,
                    node,
                    "the agent of " + node + " is gone (its ZooKeeper session ended)",
                    FailoverReason.AGENT_LOST));
        } else if (agent != null && agent.scheduler().failures() >= policy.failureLimit(view, node)) {
            int failures = agent.scheduler().failures();
            out.add(quarantines.quarantine(s, node, failures, "failed again after its quarantine was lifted"));
            out.add(move(
                    view, node, node + " failed " + failures + " times in a row", FailoverReason.SCHEDULER_FAILED));
        } else if (assigned.epoch() != s.epoch()) {
            out.add(new Assign(node, kept));
        } else if (agent != null && agent.scheduler().running()) {
            out.add(new MoveCompleted());
            failback(s, node, out);
        }
    }

    /** The assigned agentless node keeps the scheduler while it is reachable and does not keep failing. */
    private void keepAgentless(Situation s, String node, List<Action> out) {
        out.add(new SuperviseAgentless(node));
        if (s.view().unreachable().containsKey(node)) {
            // Never (c) for an agentless node: nothing there would stop its scheduler, so it keeps
            // the assignment (the host-unreachable alert went out) until it answers again.
            return;
        }
        int failures = s.agentlessFailures().getOrDefault(node, 0);
        if (failures >= policy.failureLimit(s.view(), node)) {
            out.add(quarantines.quarantine(s, node, failures, "failed again after its quarantine was lifted"));
            out.add(move(
                    s.view(), node, node + " failed " + failures + " times in a row", FailoverReason.SCHEDULER_FAILED));
        } else {
            failback(s, node, out);
        }
    }

    /**
     * {@code failback = to-preferred}: a move back to the first node of {@code nodes} once the
     * scheduler has run healthy on {@code holder}, and that node has been eligible (a live agent), both
     * for {@code failback-after} as this leader saw it, while no node at all is quarantined or
     * cordoned. The move is a {@link BeginMove} like an operator's: the leave-rule decides when the
     * preferred node is assigned.
     */
    private void failback(Situation s, String holder, List<Action> out) {
        if (!failback.on() || policy.nodes().isEmpty()) {
            return;
        }
        String preferred = policy.nodes().get(0);
        ClusterView view = s.view();
        if (holder.equals(preferred)
                || policy.isAgentless(preferred)
                || !policy.eligible(view, preferred)
                || view.nodes().values().stream().anyMatch(r -> r.quarantined() || r.hasCordon())) {
            return;
        }
        Long healthy = s.memory().healthySince(holder);
        Long eligible = s.memory().eligibleSince(preferred);
        if (healthy == null || eligible == null) {
            return;
        }
        long due = Math.max(healthy, eligible) + failback.afterNanos();
        if (s.nowNanos() < due) {
            out.add(new WakeAt(due));
            return;
        }
        out.add(new BeginMove(
                holder,
                preferred,
                "failback to " + preferred + ", the first node of nodes: the scheduler ran healthy on " + holder
                        + " and " + preferred + " was eligible for failback-after "
                        + failback.afterNanos() / 1_000_000 + "ms",
                null,
                FailoverReason.FAILBACK));
    }

    private BeginMove move(ClusterView view, String from, String reason, FailoverReason why) {
        return new BeginMove(from, policy.nextEligible(view, from).orElse(null), reason, null, why);
    }

    /**
     * The second phase: assigns the target once the leave-rule holds for every node the scheduler
     * is leaving, and no live agent reports one running.
     */
    private void continueMove(Situation s, List<Action> out) {
        ClusterView view = s.view();
        Znode<Assignment> znode = view.assignment();
        Assignment m = znode.value();
        long generation = znode.stat().getMzxid();
        boolean left = true;
        for (String node : LeaveRule.sources(znode, policy.order(view))) {
            LeaveRule.Verdict v = LeaveRule.check(node, generation, view, s.memory(), terms, s.nowNanos());
            if (!(v instanceof LeaveRule.Left)) {
                left = false;
                notLeft(s, v, generation, out);
            }
        }
        if (!left) {
            return;
        }
        for (Znode<AgentRecord> z : view.agents().values()) {
            if (z.present()
                    && (z.value().scheduler().running()
                            || Boolean.TRUE.equals(z.value().scheduler().starting()))) {
                return; // S1: a live agent still reports a scheduler (it is stopping a stray)
            }
        }
        String reason = m.reason();
        String to;
        if (m.movingTo() != null && policy.eligible(view, m.movingTo())) {
            if (s.busy().contains(m.movingTo())) {
                return; // SSH work on the target is in flight: it wakes the loop when it ends
            }
            to = m.movingTo();
        } else {
            to = policy.order(view).stream()
                    .filter(n -> policy.eligible(view, n) && !s.busy().contains(n))
                    .findFirst()
                    .orElse(null);
            if (m.movingTo() != null) {
                reason += " (" + m.movingTo() + " is no longer eligible: " + policy.whyNot(view, m.movingTo()) + ")";
            }
        }
        if (to == null) {
            out.add(new NoEligible(reason));
            return;
        }
        FailoverReason why = s.memory().moveReason() != null
                ? s.memory().moveReason()
                : m.requestId() != null ? FailoverReason.OPERATOR : FailoverReason.OTHER;
        out.add(new Assign(to, reason));
        out.add(new Moved(m.movingFrom(), to, reason, why, m.requestId(), to.equals(m.movingTo())));
    }

    /** What the leave-rule asks for, when the scheduler may not leave a node yet. */
    private void notLeft(Situation s, LeaveRule.Verdict v, long generation, List<Action> out) {
        String node = v.node();
        ControllerMemory.HostStop stop = s.memory().hostStop(node);
        if (v instanceof LeaveRule.NeedHostStop) {
            if (stop == null || !stop.inFlight()) {
                out.add(new StopHost(node, generation));
            }
            return;
        }
        boolean agentGone = v instanceof LeaveRule.AwaitGrace || v instanceof LeaveRule.Blocked;
        if (agentGone
                && terms.canHostStop()
                && stop != null
                && !stop.inFlight()
                && s.nowNanos() - stop.atNanos() >= retryStopNanos) {
            out.add(new StopHost(node, generation)); // a failed stop is tried again once per poll-interval
        }
        if (v instanceof LeaveRule.AwaitGrace g) {
            out.add(new WakeAt(g.atNanos()));
        } else if (v instanceof LeaveRule.Blocked b) {
            out.add(new MoveBlocked(node, b.why()));
        }
    }
}
