package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.cluster.Znode;
import io.asfc.common.zk.AgentRecord;
import java.util.HashMap;
import java.util.Map;

/**
 * The cluster-wide failure streak: failed starts and deaths of the scheduler, on any node, since it
 * last ran cleanly. One alert when the streak reaches {@code retry-count-before-alerting}, one
 * "recovered" when the scheduler runs again. The streak spans terms of leadership: a new term does
 * not reset it. Touched only on the controller thread.
 */
final class StreakAlerts {
    private final Alerter alerter;
    private final int alertAfter;
    private final int maxFailures;

    /** Each agent's {@code scheduler.failures} as last read, to count only new failures. */
    private final Map<String, Integer> lastFailures = new HashMap<>();

    private int streak;
    private boolean streakAlerted;

    /**
     * @param alertAfter failures in a row before the alert ({@code retry-count-before-alerting})
     * @param maxFailures failures in a row on one node before it is quarantined (for the alert text)
     */
    StreakAlerts(Alerter alerter, int alertAfter, int maxFailures) {
        this.alerter = alerter;
        this.alertAfter = alertAfter;
        this.maxFailures = maxFailures;
    }

    /** Counts failed starts across the cluster since the scheduler last ran cleanly; alerts past the threshold. */
    void countFailures(ClusterView view) {
        for (Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            if (!e.getValue().present()) {
                continue;
            }
            int failures = e.getValue().value().scheduler().failures();
            int before = lastFailures.getOrDefault(e.getKey(), 0);
            if (failures > before) {
                streak += failures - before;
                alertStreak(e.getKey());
            }
            lastFailures.put(e.getKey(), failures);
        }
        String assigned =
                view.assignment().present() ? view.assignment().value().node() : null;
        AgentRecord agent = assigned == null ? null : view.agent(assigned);
        if (agent != null && agent.scheduler().running() && agent.scheduler().failures() == 0) {
            endStreak(assigned);
        }
    }

    /** One more failure, seen on {@code node} (an agentless node's scheduler, checked over SSH). */
    void failed(String node) {
        streak++;
        alertStreak(node);
    }

    /** The scheduler runs cleanly again, on {@code node}: the streak ends. */
    void endStreak(String node) {
        if (streak > 0) {
            if (streakAlerted) {
                alerter.recovered(AlertKind.START_FAILURES, null, "the scheduler runs again, on " + node);
            }
            streak = 0;
            streakAlerted = false;
        }
    }

    private void alertStreak(String node) {
        if (streak >= alertAfter && !streakAlerted) {
            streakAlerted = true;
            alerter.raise(new Alert(
                    AlertKind.START_FAILURES,
                    null,
                    "the scheduler failed to start or died " + streak + " times in a row (last on " + node + ")",
                    "restarting it, and moving it to the next node after " + maxFailures + " failures on one node"));
        }
    }
}
