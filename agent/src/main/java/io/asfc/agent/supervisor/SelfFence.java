package io.asfc.agent.supervisor;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.process.TreeStopper;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * S4: when the ZooKeeper connection stays SUSPENDED for {@code self-fence-after} (or is LOST), it
 * stops the local scheduler, SIGKILL after {@code self-fence-stop-timeout}. It owns that kill, and
 * preempts: it runs on a thread of its own, takes no lock, does not wait for a start in progress
 * (a start that sees {@link SupervisionState#selfFences()} change stops what it started) nor for
 * an ordinary stop (every stop is idempotent), and makes no ZooKeeper call. Its event is queued
 * once reconnected.
 */
final class SelfFence implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(SelfFence.class);

    private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final String nodeId;
    private final Duration after;
    private final Duration stopTimeout;
    private final SchedulerRunner runner;
    private final SupervisionState state;
    private final EventLog events;
    private final Metrics metrics;
    private final LongSupplier nanoTime;
    private final Runnable onReconnect;
    private final ScheduledExecutorService executor;
    private final ConnectionStateListener listener = this::connectionChanged;

    private volatile ScheduledFuture<?> pending;
    private volatile Long fencedAtNanos;

    /**
     * @param onReconnect runs on Curator's event thread at every (re)connection; must not block
     *     (the supervisor hands it to its own thread)
     */
    SelfFence(
            CuratorFramework client,
            String nodeId,
            Duration after,
            Duration stopTimeout,
            SchedulerRunner runner,
            SupervisionState state,
            EventLog events,
            Metrics metrics,
            LongSupplier nanoTime,
            Runnable onReconnect) {
        this.client = client;
        this.nodeId = nodeId;
        this.after = after;
        this.stopTimeout = stopTimeout;
        this.runner = runner;
        this.state = state;
        this.events = events;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.onReconnect = onReconnect;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-self-fence-%d", nodeId));
    }

    void start() {
        if (!lifecycle.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("self-fence can be started only once");
        }
        client.getConnectionStateListenable().addListener(listener);
    }

    /**
     * On Curator's event thread: only flags and timers, nothing that blocks. The stop runs on this
     * class's own thread, so no ZooKeeper call stuck on the supervisor thread can delay it.
     */
    void connectionChanged(CuratorFramework c, ConnectionState newState) {
        state.connectionChanged();
        FenceRule.OnState what = FenceRule.onState(newState, pending != null);
        switch (what) {
            case ARM -> {
                state.suspended(true);
                pending = executor.schedule(this::fence, after.toMillis(), TimeUnit.MILLISECONDS);
            }
            case KEEP_ARMED -> state.suspended(true);
            case FENCE_NOW -> {
                state.suspended(true);
                executor.execute(this::fence);
            }
            case DISARM -> {
                state.suspended(false);
                ScheduledFuture<?> timer = pending;
                if (timer != null) {
                    timer.cancel(false);
                    pending = null;
                }
                onReconnect.run();
            }
            case NOTHING -> {}
        }
    }

    /** On the supervisor thread after a reconnection: queues the {@code self-fenced} event, if it fenced. */
    void recordIfFenced() {
        Long fenced = fencedAtNanos;
        if (fenced != null) {
            fencedAtNanos = null;
            long ms = (nanoTime.getAsLong() - fenced) / 1_000_000;
            events.record(
                    "self-fenced",
                    nodeId + ": stopped the local scheduler after " + after.toMillis()
                            + "ms without ZooKeeper (reconnected " + ms + "ms later)");
        }
    }

    /** S4: without ZooKeeper for self-fence-after, assume another host may take over: stop. */
    private void fence() {
        pending = null;
        boolean suspended = state.suspended();
        boolean open = lifecycle.get() == Lifecycle.STARTED;
        FenceRule.Verdict verdict = FenceRule.due(
                suspended,
                open,
                suspended && open && client.getZookeeperClient().isConnected());
        if (verdict == FenceRule.Verdict.STAND_DOWN) {
            return;
        }
        if (verdict == FenceRule.Verdict.RECONNECTED_JUST_NOW) {
            // Reconnected (same session) at the very moment the timer fired, before Curator's
            // RECONNECTED reached this listener: the host is not cut off, its session lives, and
            // no other host may take over. Seen in the proving ground at a ZooKeeper leader kill.
            LOG.info("not self-fencing: reconnected to ZooKeeper just now");
            return;
        }
        // No lock: the self-fence never waits on a start (the start stops what it started when it
        // sees selfFences change) nor on an ordinary stop (both stops are idempotent).
        state.selfFenced();
        state.stopBegan();
        try {
            runner.selfFencing(); // the deadman's kill clock starts now too, and survives this agent
            TreeStopper.Result result = runner.stop(stopTimeout); // stopping is always allowed
            if (FenceRule.stoppedAny(result.terminated(), result.killed())) {
                metrics.selfFenced();
                LOG.warn(
                        "self-fenced: no ZooKeeper for {}ms; stopped the local scheduler ({} process(es), {} killed)",
                        after.toMillis(),
                        result.terminated() + result.killed(),
                        result.killed());
                fencedAtNanos = nanoTime.getAsLong();
            }
            if (!result.stopped()) {
                LOG.error("self-fencing could not stop every scheduler process: {}", result.survivors());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            state.stopEnded();
        }
    }

    /** Stops listening and cancels a pending self-fence; the supervisor's close() stops the scheduler. */
    @Override
    public void close() {
        if (!lifecycle.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        client.getConnectionStateListenable().removeListener(listener);
        executor.shutdownNow();
    }
}
