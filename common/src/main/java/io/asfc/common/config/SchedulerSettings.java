package io.asfc.common.config;

import io.asfc.common.config.Modes.ForeignScheduler;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.Modes.SchedulerMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * {@code asfc.scheduler}. Empty optional strings in config become {@link Optional#empty()}.
 *
 * @param deadmanTimeout the on-host deadman's timeout; empty: derived from the ZooKeeper timings
 *     ({@link S4Budget#deadman()})
 * @param foreign what the supervisor does about a scheduler process on its host that asfc did not
 *     start
 * @param watchdogDevice {@code watchdog.device}: a Linux watchdog device (softdog, a hardware one)
 *     that the on-host deadman feeds while a scheduler may run, so a whole-host freeze resets the host
 */
public record SchedulerSettings(
        SchedulerMode mode,
        String startCommand,
        Optional<String> stopCommand,
        Optional<String> checkCommand,
        String processPattern,
        Optional<String> helperPattern,
        Optional<Path> pidFile,
        Optional<Path> virtualenv,
        Map<String, String> environment,
        Duration checkInterval,
        Duration startTimeout,
        Duration stopTimeout,
        Duration orphanStopTimeout,
        Duration selfFenceStopTimeout,
        Optional<Duration> deadmanTimeout,
        Duration restartSleep,
        int maxRestartsBeforeFailover,
        boolean stopWithAgent,
        ForeignScheduler foreign,
        Optional<Path> watchdogDevice,
        Health health) {

    /** {@code asfc.scheduler.health}. */
    public record Health(
            Optional<String> url,
            HealthFormat format,
            Duration interval,
            Duration timeout,
            Duration unhealthyAfter,
            Optional<Path> caFile) {}
}
