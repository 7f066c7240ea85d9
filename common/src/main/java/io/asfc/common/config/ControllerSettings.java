package io.asfc.common.config;

import io.asfc.common.config.Modes.Failback;
import io.asfc.common.config.Modes.OnUnfenceable;
import java.time.Duration;
import java.util.List;

/**
 * {@code asfc.controller} and {@code asfc.events}.
 *
 * @param quarantineBackoff how long a node stays quarantined the first time; doubled at each
 *     re-quarantine of the same node
 * @param maxQuarantineBackoff the longest quarantine the doubling reaches
 * @param heartbeatRefresh how often an agent rewrites its unchanged {@code agents/<node>} record;
 *     a change is written at once, and liveness is the ephemeral node's session, not the write.
 *     The refresh happens on a heartbeat tick, so one shorter than the interval is the interval:
 *     a config that only raised heartbeat-interval keeps working.
 * @param fencing how the controller confirms a node's scheduler stopped, tried in order until one does
 * @param fencingTimeout how long one {@code shell:} fencing method may run before it is killed (not confirmed)
 * @param failback whether the scheduler returns to the first node of {@code nodes}
 * @param failbackAfter how long the scheduler must have run healthy where it is before it fails back
 */
public record ControllerSettings(
        Duration pollInterval,
        Duration heartbeatInterval,
        OnUnfenceable onUnfenceable,
        Duration takeoverGrace,
        int verifyAgentsEvery,
        int eventsRetain,
        Duration quarantineBackoff,
        Duration maxQuarantineBackoff,
        Duration heartbeatRefresh,
        List<FencingEntry> fencing,
        Duration fencingTimeout,
        Failback failback,
        Duration failbackAfter) {
    public ControllerSettings {
        fencing = List.copyOf(fencing);
        if (heartbeatRefresh.compareTo(heartbeatInterval) < 0) {
            heartbeatRefresh = heartbeatInterval;
        }
    }
}
