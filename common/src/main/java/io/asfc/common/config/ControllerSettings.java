package io.asfc.common.config;

import io.asfc.common.config.Modes.OnUnfenceable;
import java.time.Duration;

/** {@code asfc.controller} and {@code asfc.events}. */
public record ControllerSettings(
        Duration pollInterval,
        Duration heartbeatInterval,
        OnUnfenceable onUnfenceable,
        Duration takeoverGrace,
        int verifyAgentsEvery,
        int eventsRetain) {}
