package io.asfc.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.ssh.SshException;
import io.asfc.common.zk.AgentRecord.Role;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

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

    private String page() throws IOException {
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
