package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.Agent;
import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.metrics.MetricsPage;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ZkPaths;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the deadman reports about {@code watchdog.device} becomes an event, an alert and metrics in the agent. */
class DeviceAlarmTest {
    private static final Path DEVICE = Path.of("/dev/watchdog");
    private static final String BUSY = "cannot open watchdog.device /dev/watchdog: Device or resource busy";

    private TestingServer server;
    private CuratorFramework client;
    private EventLog events;
    private final List<String> alerts = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics("a", "default", "test", Map.of(), System::nanoTime);
    private final AtomicReference<Optional<DeviceReport>> report = new AtomicReference<>(Optional.empty());
    private DeviceAlarm alarm;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        client.start();
        events = new EventLog(client, new ZkPaths("/airflow/failover", "default"), "a", 100, Clock.systemUTC());
        events.start();
        alarm = new DeviceAlarm("a", DEVICE, report::get, events, new RecordingAlerter(), metrics);
    }

    @AfterEach
    void stop() throws Exception {
        events.close();
        client.close();
        server.close();
    }

    @Test
    void aDeviceTheDeadmanCannotFeedIsAnEventAnAlertAndAMetricUntilItIsFedAgain() throws Exception {
        alarm.check(); // no report yet
        assertEquals(List.of(), alerts);

        report.set(Optional.of(new DeviceReport(false, "100", 1, BUSY)));
        alarm.check();
        alarm.check(); // the same report: nothing new

        assertEquals(1, alerts.size(), alerts::toString);
        assertTrue(
                alerts.get(0).startsWith("raised WATCHDOG_DEVICE a: ")
                        && alerts.get(0).contains(BUSY),
                alerts::toString);
        awaitEvents("watchdog-device-failed", 1);
        assertTrue(detail("watchdog-device-failed").contains("a: " + BUSY), this::eventList);
        assertEquals(1, sample("asfc_watchdog_device_failures_total"));
        assertEquals(1, sample("asfc_watchdog_device_failing"));

        report.set(Optional.of(new DeviceReport(true, "100", 1, "feeding watchdog.device /dev/watchdog")));
        alarm.check();

        assertEquals(2, alerts.size(), alerts::toString);
        assertTrue(alerts.get(1).startsWith("recovered WATCHDOG_DEVICE a |"), alerts::toString);
        awaitEvents("watchdog-device-fed", 1);
        assertEquals(0, sample("asfc_watchdog_device_failing"));
        assertEquals(1, sample("asfc_watchdog_device_failures_total"));

        // two failures between two looks, fed again since: counted, recorded, no alert left outstanding
        report.set(Optional.of(new DeviceReport(true, "100", 3, "feeding watchdog.device /dev/watchdog")));
        alarm.check();
        assertEquals(3, sample("asfc_watchdog_device_failures_total"));
        awaitEvents("watchdog-device-failed", 2);
        assertEquals(2, alerts.size(), () -> "no alert for a failure already over: " + alerts);

        // a new deadman (the next session) counts from 0
        report.set(Optional.of(new DeviceReport(false, "200", 1, BUSY)));
        alarm.check();
        assertEquals(4, sample("asfc_watchdog_device_failures_total"));
        assertEquals(1, sample("asfc_watchdog_device_failing"));
        assertEquals(3, alerts.size(), alerts::toString);
    }

    /** The whole path: the deadman's status file, read by a running agent, to its events and /metrics. */
    @Test
    void anAgentWhoseDeadmanCannotFeedTheDeviceRecordsItAndExportsIt(@TempDir Path dir) throws Exception {
        StandIn standIn = new StandIn(dir);
        try (TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            Agent agent = agents.start(
                    "a",
                    server.getConnectString(),
                    StandIn.FAST_TIMINGS + standIn.config("a", "") + MetricsPage.HTTP
                            + "\nasfc.scheduler.watchdog.device = /dev/full\n");

            await().atMost(Duration.ofSeconds(30)).until(() -> events.recent(100).stream()
                    .anyMatch(e -> e.event().type().equals("watchdog-device-failed")
                            && e.event().detail().contains("/dev/full: No space left on device")));
            MetricsPage page = MetricsPage.scrape(agent);
            assertEquals(1, page.value("asfc_watchdog_device_failures_total"), page::text);
            assertEquals(1, page.value("asfc_watchdog_device_failing"), page::text);
            assertEquals(1, page.value("asfc_scheduler_running"), () -> "runs without the device: " + page.text());
        } finally {
            standIn.killAll();
        }
    }

    private final class RecordingAlerter implements Alerter {
        @Override
        public void raise(Alert alert) {
            alerts.add("raised " + alert.kind() + " " + alert.node() + ": " + alert.what() + " | " + alert.action());
        }

        @Override
        public void recovered(AlertKind kind, String node, String what) {
            alerts.add("recovered " + kind + " " + node + " | " + what);
        }

        @Override
        public void close() {}
    }

    private void awaitEvents(String type, int count) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> events.recent(100).stream()
                                .filter(e -> e.event().type().equals(type))
                                .count()
                        == count);
    }

    private String detail(String type) {
        return events.recent(100).stream()
                .filter(e -> e.event().type().equals(type))
                .findFirst()
                .orElseThrow()
                .event()
                .detail();
    }

    private String eventList() {
        return events.recent(100).toString();
    }

    private double sample(String series) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$")
                .matcher(out.toString(StandardCharsets.UTF_8));
        assertTrue(m.find(), () -> series + " is not exported");
        return Double.parseDouble(m.group(1));
    }
}
