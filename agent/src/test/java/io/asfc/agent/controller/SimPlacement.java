package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulator's door to the controller's real decisions (io.asfc.agent.sim): {@link Placement},
 * {@link LeaveRule}, {@link Policy} and one term's {@link ControllerMemory}, which are package-private.
 * It decides nothing itself: it builds the {@link ClusterView}, records what the leader observed as
 * {@link Controller#step} does, calls {@link Placement#decide} and hands back the actions as public
 * records for the simulator to execute.
 */
public final class SimPlacement {
    /** {@link Action}, as the simulator executes it. */
    public sealed interface Act
            permits Assign, BeginMove, StopHost, WakeAt, Blocked, Quarantine, Lift, Answer, Supervise, Moved, Other {}

    public record Assign(String node) implements Act {}

    public record BeginMove(String from, String to, String requestId, String reason) implements Act {}

    public record StopHost(String node, long generation) implements Act {}

    public record WakeAt(long atNanos) implements Act {}

    public record Blocked(String node, String why) implements Act {}

    public record Quarantine(String node, int failures, boolean agentless, NodeRecord record) implements Act {}

    /** The new {@code nodes/<node>} after a lift or a clean run; a null record deletes it. */
    public record Lift(String node, NodeRecord record) implements Act {}

    public record Answer(String text) implements Act {}

    /** {@link Action.SuperviseAgentless}: null when no agentless node is assigned. */
    public record Supervise(String node) implements Act {}

    public record Moved(String from, String to, String requestId, boolean requestedTarget) implements Act {}

    /** NoEligible, MoveCompleted: nothing for the simulator to do. */
    public record Other(String what) implements Act {}

    private final Policy policy;
    private final Placement placement;
    private ControllerMemory memory = new ControllerMemory();

    public SimPlacement(
            List<String> nodes,
            Set<String> agentless,
            int maxFailures,
            boolean canHostStop,
            OnUnfenceable onUnfenceable,
            long graceNanos,
            long pollNanos) {
        this.policy = new Policy(nodes, agentless, maxFailures);
        // quarantine-backoff at its shipped defaults (30 s doubling to 10 min)
        this.placement = new Placement(
                policy,
                new LeaveRule.Terms(policy::isAgentless, canHostStop, onUnfenceable, graceNanos),
                pollNanos,
                java.time.Duration.ofSeconds(30),
                java.time.Duration.ofMinutes(10));
    }

    /** A new term of leadership: {@link Controller#onRole} starts a new memory. */
    public void newTerm() {
        memory = new ControllerMemory();
    }

    /** What {@link Controller#step} does between reading the view and executing the actions. */
    public List<Act> decide(
            Znode<Assignment> assignment,
            Map<String, Znode<AgentRecord>> agents,
            Znode<ControlRecord> control,
            Map<String, NodeRecord> quarantined,
            long epoch,
            long nowNanos,
            long nowMillis,
            Set<String> busy,
            Map<String, Integer> agentlessFailures) {
        ClusterView view = new ClusterView(assignment, agents, control, quarantined, Map.of())
                .withUnreachable(memory.unreachable());
        memory.observe(view, policy, nowNanos);
        List<Action> actions = placement.decide(
                new Placement.Situation(view, memory, epoch, nowNanos, nowMillis, busy, agentlessFailures, Set.of()));
        List<Act> out = new ArrayList<>();
        for (Action a : actions) {
            out.add(convert(a));
        }
        return out;
    }

    private static Act convert(Action action) {
        if (action instanceof Action.Assign a) {
            return new Assign(a.node());
        } else if (action instanceof Action.BeginMove a) {
            return new BeginMove(a.from(), a.to(), a.requestId(), a.reason());
        } else if (action instanceof Action.StopHost a) {
            return new StopHost(a.node(), a.generation());
        } else if (action instanceof Action.WakeAt a) {
            return new WakeAt(a.atNanos());
        } else if (action instanceof Action.MoveBlocked a) {
            return new Blocked(a.node(), a.why());
        } else if (action instanceof Action.Quarantine a) {
            return new Quarantine(a.node(), a.failures(), a.agentless(), a.record());
        } else if (action instanceof Action.Lift a) {
            return new Lift(a.write().node(), a.write().record());
        } else if (action instanceof Action.Recovered a) {
            return new Lift(a.write().node(), a.write().record());
        } else if (action instanceof Action.Answer a) {
            return new Answer(a.text());
        } else if (action instanceof Action.SuperviseAgentless a) {
            return new Supervise(a.node());
        } else if (action instanceof Action.Moved a) {
            return new Moved(a.from(), a.to(), a.requestId(), a.requestedTarget());
        }
        return new Other(action.getClass().getSimpleName());
    }

    /** {@link HostStopper#stop}: a host stop queued for the move of {@code generation}. */
    public void hostStopQueued(String node, long generation, long nowNanos) {
        memory.hostStopQueued(node, generation, nowNanos);
    }

    /** {@link HostStopper}'s result, for this term only. */
    public void hostStopDone(String node, boolean ok, String detail, long nowNanos) {
        memory.hostStopDone(node, ok, detail, nowNanos);
    }

    /** {@link StraySweeper#unreachable}. */
    public void unreachable(String node, String why) {
        memory.unreachable().putIfAbsent(node, why);
    }

    /** {@link StraySweeper#reachable}. */
    public void reachable(String node) {
        memory.unreachable().remove(node);
    }

    public boolean isAgentless(String node) {
        return policy.isAgentless(node);
    }

    public List<String> nodes() {
        return policy.nodes();
    }

    public int maxFailures() {
        return policy.maxFailures();
    }
}
