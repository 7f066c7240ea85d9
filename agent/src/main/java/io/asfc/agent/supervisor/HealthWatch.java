package io.asfc.agent.supervisor;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.supervisor.health.HealthProbe;
import io.asfc.agent.supervisor.health.HealthResult;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.SchedulerSettings;
import java.io.Closeable;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Probes the scheduler's health on a thread of its own ({@code health.interval}) and hands each
 * result to the supervisor thread, which calls {@link #observe}. It tracks since when the
 * scheduler is unhealthy; a scheduler that does not answer yet is given {@code unhealthy-after}
 * from its start. Its state is touched on the supervisor thread only.
 */
final class HealthWatch implements Closeable {
    private final Optional<HealthProbe> probe;
    private final SchedulerSettings.Health settings;
    private final String nodeId;
    private final EventLog events;
    private final ScheduledExecutorService executor;
    private volatile Long unhealthySinceNanos;

    HealthWatch(Optional<HealthProbe> probe, SchedulerSettings.Health settings, String nodeId, EventLog events) {
        this.probe = probe;
        this.settings = settings;
        this.nodeId = nodeId;
        this.events = events;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-health-%d", nodeId));
    }

    /** Starts probing, if a probe is configured; {@code deliver} hands a result to the supervisor thread. */
    void start(Consumer<HealthResult> deliver) {
        probe.ifPresent(p -> {
            long every = settings.interval().toMillis();
            executor.scheduleWithFixedDelay(
                    () -> {
                        HealthResult result = p.check();
                        if (!Thread.currentThread().isInterrupted()) { // not a check cut short by close()
                            deliver.accept(result);
                        }
                    },
                    every,
                    every,
                    TimeUnit.MILLISECONDS);
        });
    }

    /** A probe's result while the scheduler runs (since {@code runningSinceNanos}). */
    void observe(HealthResult result, long now, long runningSinceNanos) {
        boolean inGrace = result.status() == HealthResult.Status.UNREACHABLE
                && now - runningSinceNanos < settings.unhealthyAfter().toNanos();
        if (result.healthy()) {
            if (unhealthySinceNanos != null) {
                events.record("scheduler-healthy", nodeId + ": " + result.detail());
            }
            unhealthySinceNanos = null;
        } else if (!inGrace && unhealthySinceNanos == null) {
            unhealthySinceNanos = now;
            events.record("scheduler-unhealthy", nodeId + ": " + result.detail());
        }
    }

    /** How long it has been unhealthy, once that reaches {@code unhealthy-after}; empty otherwise. */
    Optional<Duration> overdue(long now) {
        Long since = unhealthySinceNanos;
        if (since != null && now - since >= settings.unhealthyAfter().toNanos()) {
            return Optional.of(Duration.ofNanos(now - since));
        }
        return Optional.empty();
    }

    /** Not known to be unhealthy (the scheduler may still not run: the caller checks that). */
    boolean healthy() {
        return unhealthySinceNanos == null;
    }

    /** Forgets the verdict: the scheduler was started, stopped, or found not running. */
    void clear() {
        unhealthySinceNanos = null;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
