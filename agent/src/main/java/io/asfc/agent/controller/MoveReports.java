package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operator sees of the controller's moves: the failover metrics, the {@code failover},
 * {@code scheduler-moved} and {@code no-eligible-node} events, and their alerts. Touched only on the
 * controller thread; whether the no-eligible alert is out belongs to the term ({@link ControllerMemory}).
 */
final class MoveReports {
    private static final Logger LOG = LoggerFactory.getLogger(MoveReports.class);

    private final EventLog events;
    private final Alerter alerter;
    private final Metrics metrics;

    MoveReports(EventLog events, Alerter alerter, Metrics metrics) {
        this.events = events;
        this.alerter = alerter;
        this.metrics = metrics;
    }

    /** A move's first phase was written. */
    void began(Action.BeginMove move) {
        if (move.from() != null) {
            metrics.failoverBegan();
        }
        if (move.why() == Metrics.FailoverReason.FAILBACK) {
            LOG.info("failing back from {} to {}", move.from(), move.to());
            events.record("failback", "from " + move.from() + " to " + move.to() + ": " + move.reason());
        }
    }

    /** The scheduler was assigned to {@code node}. */
    void assigned(ControllerMemory memory, String node, long epoch, String reason) {
        if (memory.assigned()) {
            alerter.recovered(AlertKind.NO_ELIGIBLE_NODE, null, "the scheduler is assigned to " + node);
        }
        LOG.info("assigned the scheduler to {} at epoch {}: {}", node, epoch, reason);
    }

    /** A move's second phase was written. */
    void moved(Action.Moved m) {
        String from = m.from();
        if (from != null && !from.equals(m.to())) {
            metrics.failover(m.why());
        }
        // "failover" when it left a node whose agent was lost, as before the leave-rule, for another
        // node; else "scheduler-moved" (a move back to the node it left, e.g. after that node's agent
        // rejoined, is no failover)
        boolean failover = m.why() == Metrics.FailoverReason.AGENT_LOST && !m.to().equals(from);
        events.record(
                failover ? "failover" : "scheduler-moved",
                (from == null ? "" : "from " + from + " ") + "to " + m.to() + ": " + m.reason());
        if (m.to().equals(from)) {
            return; // back where it was (its agent rejoined): the self-fence and rejoin events tell why
        }
        alerter.raise(new Alert(
                AlertKind.SCHEDULER_MOVED,
                from,
                "the scheduler moved" + (from == null ? "" : " from " + from) + ": " + m.reason(),
                "assigned it to " + m.to() + " once the leave-rule held"));
    }

    /** The assigned node reports its scheduler running: times the move that {@link #began} started, if any. */
    void completed() {
        metrics.failoverCompleted();
    }

    /** No node may run the scheduler: once per term until an assignment follows. */
    void noEligible(ControllerMemory memory, String why) {
        if (memory.reportNoEligible()) {
            LOG.error("no node is eligible to run the scheduler ({})", why);
            events.record("no-eligible-node", why);
            alerter.raise(new Alert(
                    AlertKind.NO_ELIGIBLE_NODE,
                    null,
                    "no node is eligible to run the scheduler: " + why,
                    "nothing runs the scheduler until a node becomes eligible (see 'asfc-agent metadata')"));
        }
    }
}
