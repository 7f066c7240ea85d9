package io.asfc.agent.supervisor;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the on-host deadman ({@link Watchdog}) every tenth of {@code deadman-timeout}, but only
 * while the agent's ZooKeeper connection is up. It renews from its own thread of this JVM: when the
 * JVM freezes (GC pause, SIGSTOP, swap storm, a debugger), renewals stop with it and the deadman, a
 * process of its own, stops the scheduler. When the connection is lost, renewals stop too, so the
 * deadman acts even if the self-fence cannot. An agent wedged while its connection stays up keeps its
 * session, so no other host takes over: that is a liveness problem ({@code /health}), not an S1 one.
 */
public final class DeadmanFeeder implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadmanFeeder.class);
    private static final Duration MIN_PERIOD = Duration.ofMillis(50);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final SchedulerRunner runner;
    private final BooleanSupplier connected;
    private final Duration period;
    private final ScheduledExecutorService executor;

    public DeadmanFeeder(String nodeId, SchedulerRunner runner, BooleanSupplier connected, Duration deadman) {
        this.runner = runner;
        this.connected = connected;
        Duration tenth = deadman.dividedBy(10);
        this.period = tenth.compareTo(MIN_PERIOD) < 0 ? MIN_PERIOD : tenth;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-deadman-%d", nodeId));
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("the deadman feeder can be started only once");
        }
        long ms = period.toMillis();
        executor.scheduleAtFixedRate(this::feed, 0, ms, TimeUnit.MILLISECONDS);
    }

    private void feed() {
        try {
            if (connected.getAsBoolean()) {
                runner.renew();
            }
        } catch (RuntimeException e) {
            // a failed renewal must not end the schedule: the next one may succeed
            LOG.warn("could not renew the deadman", e);
        }
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        executor.shutdownNow();
    }
}
