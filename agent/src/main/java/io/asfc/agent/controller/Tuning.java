package io.asfc.agent.controller;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.FencingEntry;
import io.asfc.common.config.Modes.Failback;
import io.asfc.common.config.Modes.OnUnfenceable;
import java.time.Duration;
import java.util.List;

/**
 * The controller's timings and thresholds, from config.
 *
 * @param step how often the controller re-reads the cluster without being woken
 * @param sweep how often it sweeps the nodes for stray schedulers ({@code poll-interval})
 * @param verifyAgentsEvery every how many sweeps a node with a live agent is checked over SSH
 * @param agentlessCheck how often an assigned agentless node's scheduler is checked
 * @param alertAfter failed starts in a row before an alert ({@code retry-count-before-alerting})
 * @param quarantineBackoff a node's first quarantine; doubled at each one in a row
 * @param maxQuarantineBackoff the longest quarantine
 * @param fencing {@code controller.fencing}: how a node's scheduler is confirmed stopped, in order
 * @param failback whether the scheduler returns to the first node of {@code nodes}
 * @param failbackAfter how long it runs healthy (and that node is eligible) before it does
 */
public record Tuning(
        Duration step,
        Duration sweep,
        Duration takeoverGrace,
        OnUnfenceable onUnfenceable,
        int verifyAgentsEvery,
        Duration agentlessCheck,
        Duration restartSleep,
        Duration startTimeout,
        int alertAfter,
        Duration quarantineBackoff,
        Duration maxQuarantineBackoff,
        List<FencingEntry> fencing,
        Failback failback,
        Duration failbackAfter) {

    public static Tuning from(AsfcSettings s) {
        return new Tuning(
                s.controller().heartbeatInterval(),
                s.controller().pollInterval(),
                s.controller().takeoverGrace(),
                s.controller().onUnfenceable(),
                s.controller().verifyAgentsEvery(),
                s.scheduler().checkInterval(),
                s.scheduler().restartSleep(),
                s.scheduler().startTimeout(),
                s.alerts().retryCountBeforeAlerting(),
                s.controller().quarantineBackoff(),
                s.controller().maxQuarantineBackoff(),
                s.controller().fencing(),
                s.controller().failback(),
                s.controller().failbackAfter());
    }
}
