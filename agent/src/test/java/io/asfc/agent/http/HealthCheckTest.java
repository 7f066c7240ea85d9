package io.asfc.agent.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.state.ConnectionState;
import org.junit.jupiter.api.Test;

class HealthCheckTest {
    private final AtomicLong now = new AtomicLong();
    private final Metrics metrics = new Metrics(
            "a",
            "default",
            "1.0",
            Map.of(Loop.SUPERVISOR, Duration.ofSeconds(60), Loop.HEARTBEAT, Duration.ofSeconds(30)),
            now::get);
    private final HealthCheck health = new HealthCheck("a", metrics);

    @Test
    void startingAgentIsDownUntilItHasJoined() {
        HealthCheck.Report report = health.check();

        assertEquals("DOWN", report.status());
        assertEquals("connecting", report.zookeeper());
        assertEquals(
                List.of(
                        "not connected to ZooKeeper yet (trying for 0s)",
                        "starting: the agent has not joined its cluster yet"),
                report.reasons());
    }

    @Test
    void joinedAndConnectedAgentIsUp() {
        joined();

        HealthCheck.Report report = health.check();

        assertTrue(report.healthy(), report.toString());
        assertEquals("UP", report.status());
    }

    @Test
    void suspendedConnectionIsDownWithHowLong() {
        joined();
        metrics.connection(ConnectionState.SUSPENDED);
        advance(Duration.ofSeconds(3));

        assertEquals(
                List.of("ZooKeeper connection suspended for 3s (the session may still be alive)"),
                health.check().reasons());

        metrics.connection(ConnectionState.RECONNECTED);
        assertTrue(health.check().healthy());
    }

    @Test
    void stuckLoopIsDownAndNamed() {
        joined();
        advance(Duration.ofSeconds(25));
        metrics.heartbeatWritten();
        metrics.progress(Loop.HEARTBEAT);
        advance(Duration.ofSeconds(40));
        metrics.heartbeatWritten();
        metrics.progress(Loop.HEARTBEAT);

        assertEquals(
                List.of("loop stuck: supervisor: no progress for 65s (limit 60s)"),
                health.check().reasons());
    }

    private void joined() {
        metrics.connection(ConnectionState.CONNECTED);
        metrics.loopsStarted();
        metrics.heartbeatWritten();
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }
}
