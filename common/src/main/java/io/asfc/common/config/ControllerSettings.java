package io.asfc.common.config;

import io.asfc.common.config.Modes.OnUnfenceable;
import java.time.Duration;

/**
 * {@code asfc.controller} and {@code asfc.events}.
 *
 * @param quarantineBackoff how long a node stays quarantined the first time; doubled at each
 *     re-quarantine of the same node
 * @param maxQuarantineBackoff the longest quarantine the doubling reaches
 */
public record ControllerSettings(
        Duration pollInterval,
        Duration heartbeatInterval,
        OnUnfenceable onUnfenceable,
        Duration takeoverGrace,
        int verifyAgentsEvery,
        int eventsRetain,
        Duration quarantineBackoff,
        Duration maxQuarantineBackoff) {}
