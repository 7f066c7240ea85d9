package io.asfc.agent.supervisor;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code scheduler.watchdog.device}: turns what the on-host deadman reports about the device
 * ({@link DeviceReport}) into what an operator sees. When the deadman cannot open or write to it: an
 * ERROR in the agent's log, a {@code watchdog-device-failed} event naming the device and the error,
 * a {@link AlertKind#WATCHDOG_DEVICE} alert, and {@code asfc_watchdog_device_failures_total} and
 * {@code asfc_watchdog_device_failing}. When it feeds the device again: a {@code
 * watchdog-device-fed} event, and the alert recovers. The deadman keeps stopping the scheduler when
 * renewals stop either way; only a freeze of the whole host is no longer covered meanwhile. Runs on
 * the supervisor thread, every {@code check-interval}.
 */
final class DeviceAlarm {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceAlarm.class);
    static final String FAILED = "watchdog-device-failed";
    static final String FED = "watchdog-device-fed";

    private final String nodeId;
    private final Path device;
    private final Supplier<Optional<DeviceReport>> reports;
    private final EventLog events;
    private final Alerter alerter;
    private final Metrics metrics;
    /** The last report acted on; null before the first. */
    private DeviceReport last;

    private boolean failing;

    /** @param reports the deadman's latest report ({@link SchedulerRunner#watchdogDevice}) */
    DeviceAlarm(
            String nodeId,
            Path device,
            Supplier<Optional<DeviceReport>> reports,
            EventLog events,
            Alerter alerter,
            Metrics metrics) {
        this.nodeId = nodeId;
        this.device = device;
        this.reports = reports;
        this.events = events;
        this.alerter = alerter;
        this.metrics = metrics;
    }

    void check() {
        reports.get().ifPresent(this::seen);
    }

    private void seen(DeviceReport now) {
        int before = last != null && last.deadman().equals(now.deadman()) ? last.failures() : 0;
        int failures = Math.max(0, now.failures() - before);
        last = now;
        if (!now.fed() && failures > 0) {
            failing = true;
            metrics.watchdogDevice(failures, true);
            LOG.error(
                    "the on-host deadman {}; it runs without the device and retries every second: it still stops the"
                            + " scheduler when renewals stop, but a freeze of the whole host no longer resets it",
                    now.text());
            events.record(
                    FAILED, nodeId + ": " + now.text() + "; the deadman runs without it and retries every second");
            alerter.raise(new Alert(
                    AlertKind.WATCHDOG_DEVICE,
                    nodeId,
                    "the on-host deadman on " + nodeId + " " + now.text(),
                    "it runs without the device and retries every second: it still stops the scheduler when the"
                            + " agent's renewals stop, but a freeze of the whole host no longer resets the host;"
                            + " see docs/RUNBOOK.md, \"A watchdog device\""));
        } else if (now.fed() && failing) {
            failing = false;
            metrics.watchdogDevice(failures, false);
            LOG.info("the on-host deadman feeds watchdog.device {} again", device);
            events.record(FED, nodeId + ": the deadman feeds watchdog.device " + device + " again");
            alerter.recovered(AlertKind.WATCHDOG_DEVICE, nodeId, "the deadman feeds watchdog.device " + device);
        } else if (failures > 0) {
            metrics.watchdogDevice(failures, failing);
            LOG.warn(
                    "the on-host deadman failed {} time(s) to feed watchdog.device {} since it was last looked at, and"
                            + " feeds it again; see its output",
                    failures,
                    device);
            events.record(
                    FAILED,
                    nodeId + ": the deadman failed " + failures + " time(s) to feed watchdog.device " + device
                            + " and feeds it again");
        }
    }
}
