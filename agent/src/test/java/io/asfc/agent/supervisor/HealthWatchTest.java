package io.asfc.agent.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.supervisor.health.HealthResult;
import io.asfc.agent.supervisor.health.HealthResult.Status;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The unhealthy tracking, with times passed in: no probe runs, no ZooKeeper is needed. */
class HealthWatchTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    /** Never started: the events it is given wait in its queue. */
    private final CuratorFramework client = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(10));

    private final EventLog events =
            new EventLog(client, new ZkPaths("/airflow/failover", "default"), "a", 100, Clock.systemUTC());
    private final HealthWatch watch = new HealthWatch(Optional.empty(), settings(), "a", events);

    @AfterEach
    void close() {
        watch.close();
        events.close();
    }

    @Test
    void unhealthyIsOverdueAfterUnhealthyAfterAndRecordedOnce() {
        watch.observe(new HealthResult(Status.UNHEALTHY, "HTTP 503"), 100 * SECOND, 0);
        watch.observe(new HealthResult(Status.UNHEALTHY, "HTTP 503"), 101 * SECOND, 0);
        assertFalse(watch.healthy());
        assertEquals(Optional.empty(), watch.overdue(102 * SECOND));
        assertEquals(Optional.of(Duration.ofSeconds(3)), watch.overdue(103 * SECOND));
        assertEquals(1, events.pending(), "scheduler-unhealthy, once");

        watch.observe(new HealthResult(Status.HEALTHY, "HTTP 200"), 104 * SECOND, 0);
        assertTrue(watch.healthy());
        assertEquals(Optional.empty(), watch.overdue(200 * SECOND));
        assertEquals(2, events.pending(), "and scheduler-healthy");
    }

    @Test
    void aSchedulerThatDoesNotAnswerYetIsGivenUnhealthyAfterFromItsStart() {
        long started = 50 * SECOND;
        watch.observe(new HealthResult(Status.UNREACHABLE, "connection refused"), started + 2 * SECOND, started);
        assertTrue(watch.healthy(), "still starting");
        watch.observe(new HealthResult(Status.UNHEALTHY, "HTTP 503"), started + 2 * SECOND, started);
        assertFalse(watch.healthy(), "an answer counts at once");
        watch.clear();
        watch.observe(new HealthResult(Status.UNREACHABLE, "connection refused"), started + 3 * SECOND, started);
        assertFalse(watch.healthy(), "past unhealthy-after");
    }

    private static SchedulerSettings.Health settings() {
        return new SchedulerSettings.Health(
                Optional.empty(),
                HealthFormat.AUTO,
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                Duration.ofSeconds(3),
                Optional.empty());
    }
}
