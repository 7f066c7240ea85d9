package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import java.util.List;
import java.util.function.Predicate;

/**
 * The leave-rule, the one rule by which the assignment may leave a node that may still run the
 * scheduler (docs/SAFETY.md). Every path that moves the scheduler away from a node asks it:
 * takeover, operator failover, quarantine, the fill of an absent or unreadable znode, and a new
 * leader finishing an old move. Pure: it decides from the view, the leader's memory and the time.
 *
 * <p>The assignment may leave node X, unassigned by the write of generation G (the {@code mzxid}
 * of the moving {@code scheduler} znode), only when
 *
 * <ul>
 *   <li>(a) X's agent reports {@code running = false, starting = false, observed >= G}: it has
 *       seen the unassignment and acted on it; or
 *   <li>(b) this leader, under its lease, confirmed X's scheduler stopped by fencing after G was
 *       written: one of the methods of {@code controller.fencing} ({@code ssh}, {@code shell:<cmd>})
 *       confirmed it ({@link HostStopper}); or
 *   <li>(c) X is a node with an agent, {@code agents/X} is absent, no fencing method confirmed it
 *       (or none is available: only {@code ssh}, and SSH is disabled), {@code on-unfenceable =
 *       proceed}, and {@code takeover-grace} has passed since this leader first saw {@code agents/X}
 *       absent. Never for an agentless node.
 * </ul>
 */
final class LeaveRule {
    /**
     * What the rule needs to know of the configuration.
     *
     * @param canHostStop whether any fencing method can run ({@code controller.fencing}; {@code ssh}
     *     counts only while {@code ssh.enabled})
     */
    record Terms(Predicate<String> agentless, boolean canHostStop, OnUnfenceable onUnfenceable, long graceNanos) {}

    /** Whether the assignment may leave a node and, if not yet, what would let it. */
    sealed interface Verdict permits Left, AwaitReport, NeedHostStop, AwaitGrace, Blocked {
        String node();

        String why();
    }

    /** It may leave: {@code why} names the clause, (a), (b) or (c). */
    record Left(String node, String why) implements Verdict {}

    /** Wait for the node's live agent to report what it did (its report wakes the leader). */
    record AwaitReport(String node, String why) implements Verdict {}

    /** Fence the node: stop its scheduler (unless a stop is in flight), then ask again. */
    record NeedHostStop(String node, String why) implements Verdict {}

    /** (c) will hold at {@code atNanos}, unless something else does first. */
    record AwaitGrace(String node, long atNanos, String why) implements Verdict {}

    /** Nothing the leader can do lets it leave: an operator or the host must act (alert). */
    record Blocked(String node, String why) implements Verdict {}

    private LeaveRule() {}

    /**
     * The nodes a moving assignment is leaving: its {@code movingFrom}, or, when that is unknown
     * (null: an absent, unreadable or older-version znode), every node that may have been assigned:
     * {@code everyNode}, which is {@link Policy#order} (every node of {@code asfc.nodes}, or every
     * live agent when that list is empty).
     */
    static List<String> sources(Znode<Assignment> assignment, List<String> everyNode) {
        if (assignment.present() && assignment.value().movingFrom() != null) {
            return List.of(assignment.value().movingFrom());
        }
        return everyNode;
    }

    /**
     * @param generation the {@code mzxid} of the write that unassigned the scheduler
     * @param memory what this leader saw and did during its term
     * @param now the leader's monotonic clock, in nanoseconds
     */
    static Verdict check(
            String node, long generation, ClusterView view, ControllerMemory memory, Terms terms, long now) {
        Znode<AgentRecord> agent = view.agents().get(node);
        ControllerMemory.HostStop stop = memory.hostStop(node);
        if (stop != null && stop.provesStoppedSince(generation)) {
            return new Left(node, "(b) this leader confirmed it stopped by fencing: " + stop.detail());
        }
        if (agent != null) {
            if (agent.present() && agent.value().scheduler().provesStoppedSince(generation)) {
                return new Left(node, "(a) its agent reports it stopped, having seen generation " + generation);
            }
            return new AwaitReport(
                    node,
                    "waiting for " + node + "'s agent to report its scheduler stopped after generation " + generation
                            + (agent.present() ? "" : " (its record is unreadable)"));
        }
        if (terms.canHostStop() && (stop == null || stop.inFlight() || stop.generation() < generation)) {
            return new NeedHostStop(node, node + " has no live agent: fencing it");
        }
        String failed = terms.canHostStop()
                ? "no fencing method confirmed it stopped (" + stop.detail() + ")"
                : "no fencing method is available (SSH is disabled)";
        if (terms.agentless().test(node)) {
            return new Blocked(
                    node,
                    "agentless " + node + " keeps the scheduler: " + failed
                            + ", and no agent there can stop it (never moved away without a confirmed stop)");
        }
        if (terms.canHostStop() && terms.onUnfenceable() == OnUnfenceable.WAIT) {
            return new Blocked(node, node + "'s agent is gone and " + failed + "; on-unfenceable = wait");
        }
        Long since = memory.missingSince(node);
        long at = (since == null ? now : since) + terms.graceNanos();
        if (since != null && now >= at) {
            return new Left(
                    node,
                    "(c) its agent is gone, " + failed + ", and takeover-grace " + terms.graceNanos() / 1_000_000
                            + "ms has passed (its self-fencing covers it)");
        }
        return new AwaitGrace(node, at, node + "'s agent is gone and " + failed + ": waiting takeover-grace");
    }
}
