package io.asfc.agent.controller;

import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.zk.NodeRecord;
import java.util.List;

/**
 * What the controller does, in the order {@link Placement#decide} gives: the decision's effects, as data.
 * The permitted actions are the records below (a sealed interface permits what its file declares).
 */
sealed interface Action {

    /** The new content of {@code nodes/<node>}; {@code record} null: the znode is deleted. */
    record NodeWrite(String node, NodeRecord record) {}

    /** Lift a quarantine (for one attempt, or for good after a clean start): an event and an alert. */
    record Lift(NodeWrite write, String why) implements Action {}

    /** A node lifted for one attempt ran cleanly: its failures are forgotten. */
    record Recovered(NodeWrite write, String why) implements Action {}

    /**
     * Answer the operator's pending node request with {@code answer} (null: a {@link BeginMove}
     * that follows answers it), writing {@code writes} in the same transaction; {@code event}
     * (null: none) records who asked for what.
     */
    record Operate(List<NodeWrite> writes, String event, String detail, String answer) implements Action {}

    /** Write the assignment of {@code node} at this leader's epoch (a move's second phase, or a re-stamp). */
    record Assign(String node, String reason) implements Action {}

    /** A move's first phase: nobody is assigned; {@code from} null means it may run anywhere. */
    record BeginMove(String from, String to, String reason, String requestId, FailoverReason why) implements Action {}

    /** Quarantine {@code node}: it failed {@code failures} times in a row; {@code record} says until when. */
    record Quarantine(String node, int failures, boolean agentless, NodeRecord record) implements Action {}

    /** Stop {@code node}'s scheduler over SSH under this leader's lease, for the move of {@code generation}. */
    record StopHost(String node, long generation) implements Action {}

    /** Decide again at {@code atNanos} (the leader's monotonic clock). */
    record WakeAt(long atNanos) implements Action {}

    /** The scheduler cannot leave {@code node} until an operator or the host acts: alert, decide again later. */
    record MoveBlocked(String node, String why) implements Action {}

    /** The move that {@link Assign} just finished: count it, record it, alert, answer its request. */
    record Moved(String from, String to, String reason, FailoverReason why, String requestId, boolean requestedTarget)
            implements Action {}

    /** Answer the operator's pending request with {@code text}. */
    record Answer(String text) implements Action {}

    /** No node may run the scheduler now: alert (once until one may). */
    record NoEligible(String why) implements Action {}

    /** Run the scheduler on this agentless node over SSH; null: no agentless node is assigned. */
    record SuperviseAgentless(String node) implements Action {}

    /** The assigned node reports its scheduler running: a failover under way is complete. */
    record MoveCompleted() implements Action {}
}
