package io.asfc.agent.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.Agent;
import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshException;
import io.asfc.common.zk.AgentRecord.Role;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsTest {
    private final AtomicLong now = new AtomicLong(-1_000_000_000L);
    private final Metrics metrics =
            new Metrics("a", "default", "1.0", Map.of(Loop.SUPERVISOR, Duration.ofSeconds(30)), now::get);

    @Test
    void restartIsTimedFromTheDeathToTheNextStart() throws IOException {
        metrics.schedulerStarted();
        metrics.schedulerFailed();
        advance(Duration.ofMillis(300));
        metrics.schedulerFailed(); // the failed start that follows does not move the start of the clock
        advance(Duration.ofMillis(400));
        metrics.schedulerStarted();

        String page = page();
        assertEquals(2, sample(page, "asfc_scheduler_starts_total"));
        assertEquals(1, sample(page, "asfc_scheduler_restarts_total"));
        assertEquals(1, sample(page, "asfc_scheduler_restart_seconds_count"));
        assertEquals(0.7, sample(page, "asfc_scheduler_restart_seconds_sum"), 1e-9);
        assertEquals(0, sample(page, "asfc_scheduler_restart_seconds_bucket{le=\"0.5\"}"));
        assertEquals(1, sample(page, "asfc_scheduler_restart_seconds_bucket{le=\"1.0\"}"));
    }

    @Test
    void aFailureFollowedByAMoveIsNoRestart() throws IOException {
        metrics.schedulerFailed();
        metrics.schedulerNotAssigned();
        advance(Duration.ofHours(1));
        metrics.schedulerStarted(); // assigned here again, much later

        assertEquals(0, sample(page(), "asfc_scheduler_restarts_total"));
    }

    @Test
    void roleChangesAreCountedOncePerChange() throws IOException {
        metrics.role(Role.STANDBY);
        metrics.role(Role.ACTIVE);
        metrics.role(Role.ACTIVE);
        metrics.role(Role.STANDBY);

        String page = page();
        assertEquals(2, sample(page, "asfc_leadership_changes_total"));
        assertEquals(0, sample(page, "asfc_role{role=\"active\"}"));
        assertEquals(1, sample(page, "asfc_role{role=\"standby\"}"));
    }

    @Test
    void sshFailuresAreCountedByReasonAndEveryReasonIsShown() throws IOException {
        metrics.sshFailed(SshException.Reason.TIMED_OUT);
        metrics.sshFailed(SshException.Reason.TIMED_OUT);
        metrics.sshFailed(SshException.Reason.AUTH_FAILED);

        String page = page();
        assertEquals(2, sample(page, "asfc_ssh_failures_total{reason=\"timed_out\"}"));
        assertEquals(1, sample(page, "asfc_ssh_failures_total{reason=\"auth_failed\"}"));
        assertEquals(0, sample(page, "asfc_ssh_failures_total{reason=\"host_key_mismatch\"}"));
    }

    @Test
    void heartbeatAgeGrowsUntilTheNextWrite() throws IOException {
        metrics.heartbeatWritten();
        advance(Duration.ofMillis(2500));
        assertEquals(2.5, sample(page(), "asfc_heartbeat_age_seconds"), 1e-9);

        metrics.heartbeatWritten();
        assertEquals(0, sample(page(), "asfc_heartbeat_age_seconds"));
    }

    @Test
    void stuckLoopsAreNamedWithTheirSilenceAndLimit() {
        metrics.loopsStarted();
        advance(Duration.ofSeconds(31));

        assertEquals(java.util.List.of("supervisor: no progress for 31s (limit 30s)"), metrics.stuckLoops());
        assertTrue(metrics.loopsRunning());
    }

    @Test
    void heartbeatOlderThanTheHeartbeatLimitIsStale() {
        Metrics m = new Metrics("a", "default", "1.0", Map.of(Loop.HEARTBEAT, Duration.ofSeconds(30)), now::get);
        advance(Duration.ofMinutes(5)); // before joining: not judged
        assertTrue(m.staleHeartbeat().isEmpty());
        m.loopsStarted();
        m.heartbeatWritten();
        advance(Duration.ofSeconds(30));
        assertTrue(m.staleHeartbeat().isEmpty());

        advance(Duration.ofSeconds(1));

        assertEquals(
                "heartbeat not written for 31s (limit 30s)", m.staleHeartbeat().orElseThrow());
    }

    @Test
    void sessionExpirationsAreCountedOncePerLoss() throws IOException {
        metrics.connection(ConnectionState.CONNECTED);
        metrics.connection(ConnectionState.SUSPENDED);
        metrics.connection(ConnectionState.LOST);
        metrics.connection(ConnectionState.LOST); // the same loss, told again
        metrics.connection(ConnectionState.RECONNECTED);
        metrics.connection(ConnectionState.SUSPENDED);
        metrics.connection(ConnectionState.RECONNECTED); // a blip: the session survived

        assertEquals(1, sample(page(), "asfc_zk_session_expirations_total"));
        metrics.connection(ConnectionState.LOST);
        assertEquals(2, sample(page(), "asfc_zk_session_expirations_total"));
    }

    @Test
    void selfFencesAreCounted() throws IOException {
        assertEquals(0, sample(page(), "asfc_self_fences_total"));

        metrics.selfFenced();

        assertEquals(1, sample(page(), "asfc_self_fences_total"));
    }

    @Test
    void failoversAreCountedByReasonAndEveryReasonIsShown() throws IOException {
        metrics.failover(FailoverReason.AGENT_LOST);
        metrics.failover(FailoverReason.AGENT_LOST);
        metrics.failover(FailoverReason.OPERATOR);
        metrics.failover();

        String page = page();
        assertEquals(2, sample(page, "asfc_failovers_total{reason=\"agent_lost\"}"));
        assertEquals(1, sample(page, "asfc_failovers_total{reason=\"operator\"}"));
        assertEquals(1, sample(page, "asfc_failovers_total{reason=\"other\"}"));
        assertEquals(0, sample(page, "asfc_failovers_total{reason=\"scheduler_failed\"}"));
    }

    @Test
    void foreignSchedulersAreCountedByActionAndBothActionsAreShown() throws IOException {
        String before = page();
        assertEquals(0, sample(before, "asfc_foreign_schedulers_total{action=\"stopped\"}"));
        assertEquals(0, sample(before, "asfc_foreign_schedulers_total{action=\"alerted\"}"));

        metrics.foreignScheduler(true);
        metrics.foreignScheduler(true);
        metrics.foreignScheduler(false);

        String page = page();
        assertEquals(2, sample(page, "asfc_foreign_schedulers_total{action=\"stopped\"}"));
        assertEquals(1, sample(page, "asfc_foreign_schedulers_total{action=\"alerted\"}"));
    }

    @Test
    void failoverIsTimedFromItsFirstBeginToCompletion() throws IOException {
        metrics.role(Role.ACTIVE);
        metrics.failoverCompleted(); // nothing began: nothing to time
        metrics.failoverBegan();
        advance(Duration.ofSeconds(4));
        metrics.failoverBegan(); // the same move, seen again by the next round
        advance(Duration.ofSeconds(3));
        metrics.failoverCompleted();
        metrics.failoverCompleted();

        String page = page();
        assertEquals(1, sample(page, "asfc_failover_duration_seconds_count"));
        assertEquals(7, sample(page, "asfc_failover_duration_seconds_sum"), 1e-9);
        assertEquals(0, sample(page, "asfc_failover_duration_seconds_bucket{le=\"5.0\"}"));
        assertEquals(1, sample(page, "asfc_failover_duration_seconds_bucket{le=\"10.0\"}"));
    }

    @Test
    void aMoveBegunBeforeLeadershipEndedIsNotTimedByThisAgent() throws IOException {
        metrics.role(Role.ACTIVE);
        metrics.failoverBegan();
        metrics.role(Role.STANDBY);
        metrics.role(Role.ACTIVE);
        metrics.failoverCompleted();

        assertEquals(0, sample(page(), "asfc_failover_duration_seconds_count"));
    }

    @Test
    void theLocalSchedulerIsShownAsLastReported() throws IOException {
        String before = page();
        assertEquals(0, sample(before, "asfc_scheduler_running"));
        assertEquals(0, sample(before, "asfc_scheduler_failures"));

        metrics.schedulerReported(true, false, 2);

        String page = page();
        assertEquals(1, sample(page, "asfc_scheduler_running"));
        assertEquals(0, sample(page, "asfc_scheduler_healthy"));
        assertEquals(2, sample(page, "asfc_scheduler_failures"));

        metrics.schedulerReported(true, true, 0);
        assertEquals(1, sample(page(), "asfc_scheduler_healthy"));
        metrics.schedulerReported(false, true, 0);
        assertEquals(0, sample(page(), "asfc_scheduler_running"));
        assertEquals(0, sample(page(), "asfc_scheduler_healthy"));
    }

    @Test
    void assignmentAndQuarantinesAreShownPerNodeFromTheStart() throws IOException {
        Metrics m = new Metrics(
                "a",
                "default",
                "1.0",
                List.of("a", "b", "c"),
                Map.of(Loop.SUPERVISOR, Duration.ofSeconds(30)),
                now::get);
        String start = page(m);
        for (String node : List.of("a", "b", "c")) {
            assertEquals(0, sample(start, "asfc_scheduler_assigned{node=\"" + node + "\"}"));
            assertEquals(0, sample(start, "asfc_node_quarantined{node=\"" + node + "\"}"));
        }

        m.assignment(Optional.of("b"));
        m.quarantined(Set.of("a"));

        String page = page(m);
        assertEquals(0, sample(page, "asfc_scheduler_assigned{node=\"a\"}"));
        assertEquals(1, sample(page, "asfc_scheduler_assigned{node=\"b\"}"));
        assertEquals(0, sample(page, "asfc_scheduler_moving"));
        assertEquals(1, sample(page, "asfc_node_quarantined{node=\"a\"}"));

        m.assignment(Optional.empty()); // a move under way
        m.quarantined(Set.of());

        page = page(m);
        assertEquals(0, sample(page, "asfc_scheduler_assigned{node=\"b\"}"));
        assertEquals(1, sample(page, "asfc_scheduler_moving"));
        assertEquals(0, sample(page, "asfc_node_quarantined{node=\"a\"}"));
    }

    @Test
    void sshOperationsAreCountedByOperationAndResult() throws IOException {
        metrics.sshOperation(RemoteScheduler.Op.LOOK, true);
        metrics.sshOperation(RemoteScheduler.Op.LOOK, true);
        metrics.sshOperation(RemoteScheduler.Op.STOP, false);

        String page = page();
        assertEquals(2, sample(page, "asfc_ssh_operations_total{op=\"look\",result=\"ok\"}"));
        assertEquals(1, sample(page, "asfc_ssh_operations_total{op=\"stop\",result=\"failed\"}"));
        assertEquals(0, sample(page, "asfc_ssh_operations_total{op=\"start\",result=\"ok\"}"));
    }

    /**
     * A real agent, with its scheduler running, scraped over HTTP: the JVM's and the process's own
     * metrics are there with values that make sense for a live agent, next to asfc's.
     */
    @Test
    void aRunningAgentServesJvmAndProcessMetrics(@TempDir Path dir) throws Exception {
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            Agent agent = agents.start("a", server.getConnectString(), MetricsPage.HTTP);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> MetricsPage.scrape(agent).value("asfc_scheduler_running") == 1);

            MetricsPage page = MetricsPage.scrape(agent);

            double heapUsed = page.value("jvm_memory_used_bytes{area=\"heap\"}");
            double heapCommitted = page.value("jvm_memory_committed_bytes{area=\"heap\"}");
            assertTrue(heapUsed > 1 << 20 && heapUsed <= heapCommitted, page.text());
            assertTrue(page.value("jvm_memory_used_bytes{area=\"nonheap\"}") > 0, page.text());
            assertTrue(page.samples("jvm_memory_pool_used_bytes").size() >= 2, page.text());
            Map<String, Double> gcCounts = page.samples("jvm_gc_collection_seconds_count");
            assertTrue(gcCounts.values().stream().allMatch(c -> c >= 0), page.text());
            double threads = page.value("jvm_threads_current");
            assertTrue(threads >= 5 && threads < 1000, page.text());
            assertTrue(page.value("jvm_threads_daemon") <= threads, page.text());
            assertTrue(page.value("jvm_threads_peak") >= threads, page.text());
            assertEquals(0, page.value("jvm_threads_deadlocked"));
            assertTrue(page.samples("jvm_threads_state").size() >= 4, page.text());

            double cpu = page.value("process_cpu_seconds_total");
            assertTrue(
                    cpu > 0
                            && cpu
                                    < ProcessHandle.current()
                                                    .info()
                                                    .totalCpuDuration()
                                                    .orElseThrow()
                                                    .toSeconds()
                                            + 1,
                    page.text());
            double rss = page.value("process_resident_memory_bytes");
            assertTrue(rss > 16 << 20 && rss < 24L << 30, "RSS of a live JVM: " + rss);
            double fds = page.value("process_open_fds");
            assertTrue(fds > 3 && fds <= page.value("process_max_fds"), page.text());
            double started = page.value("process_start_time_seconds");
            assertTrue(
                    Math.abs(started * 1000
                                    - ProcessHandle.current()
                                            .info()
                                            .startInstant()
                                            .orElseThrow()
                                            .toEpochMilli())
                            < 2_000,
                    "process_start_time_seconds is this JVM's start: " + started);

            assertEquals(1, page.value("asfc_role{role=\"active\"}"));
            assertEquals(1, page.value("asfc_scheduler_assigned{node=\"a\"}"));
            assertEquals(0, page.value("asfc_scheduler_assigned{node=\"b\"}"));
            assertEquals(0, page.value("asfc_node_quarantined{node=\"a\"}"));
            assertEquals(0, page.value("asfc_self_fences_total"));
            assertEquals(0, page.value("asfc_zk_session_expirations_total"));
        }
    }

    private String page() throws IOException {
        return page(metrics);
    }

    private static String page(Metrics metrics) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    private static double sample(String page, String series) {
        Matcher m =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(page);
        if (!m.find()) {
            throw new AssertionError(series + " is not in:\n" + page);
        }
        return Double.parseDouble(m.group(1));
    }
}
