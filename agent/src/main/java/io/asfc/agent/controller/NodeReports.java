package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.events.EventLog;
import io.asfc.common.zk.NodeRecord;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operator sees of the {@code nodes/<node>} records the controller writes: the events of
 * quarantines, lifts, clean runs and operator requests, and an alert line for each quarantine and
 * lift. Called on the controller thread, after the write committed.
 */
final class NodeReports {
    private static final Logger LOG = LoggerFactory.getLogger(NodeReports.class);

    private final EventLog events;
    private final Alerter alerter;

    NodeReports(EventLog events, Alerter alerter) {
        this.events = events;
        this.alerter = alerter;
    }

    void quarantined(Action.Quarantine q) {
        NodeRecord r = q.record();
        String backoff = r.backoffMillis() == null ? "" : human(Duration.ofMillis(r.backoffMillis()));
        String detail = q.node() + ": " + r.reason() + "; quarantined until " + r.until() + " (" + backoff
                + ", quarantine " + r.quarantines() + " in a row)";
        LOG.warn("node-quarantined {}", detail);
        events.record("node-quarantined", detail);
        alerter.raise(new Alert(
                AlertKind.QUARANTINE,
                q.node(),
                q.node() + " is quarantined for " + backoff + ": " + r.reason(),
                "it gets one attempt again at " + r.until() + "; 'asfc-agent unquarantine " + q.node()
                        + "' lifts it now"));
    }

    void lifted(Action.Lift lift) {
        String node = lift.write().node();
        String detail = node + ": " + lift.why();
        LOG.info("node-eligible-again {}", detail);
        events.record("node-eligible-again", detail);
        alerter.raise(new Alert(
                AlertKind.QUARANTINE,
                node,
                "the quarantine of " + node + " is lifted: " + lift.why(),
                "it may run the scheduler again; one more failure quarantines it for twice as long"));
    }

    void recovered(Action.Recovered r) {
        String detail = r.write().node() + ": " + r.why();
        LOG.info("node-recovered {}", detail);
        events.record("node-recovered", detail);
    }

    void operated(Action.Operate o) {
        if (o.event() != null) {
            LOG.info("{} {}", o.event(), o.detail());
            events.record(o.event(), o.detail());
        }
    }

    private static String human(Duration d) {
        return d.toSeconds() >= 60 && d.toSecondsPart() == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
