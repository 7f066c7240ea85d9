package io.asfc.agent.supervisor;

import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.supervisor.health.HealthProbe;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this host matching the assignment. It composes three parts around one supervisor thread:
 *
 * <ul>
 *   <li>the {@link Reconciler} compares the assignment with what runs and starts or stops, on the
 *       supervisor thread, woken by the caches of {@code scheduler} and {@code control}, by every
 *       {@code check-interval}, by a death (child mode) and by health results;
 *   <li>the {@link SelfFence} (S4) stops the local scheduler on a thread of its own when ZooKeeper
 *       stays away for {@code self-fence-after}, waiting on no lock and no start;
 *   <li>the {@link HealthWatch} probes the scheduler's health and tracks since when it is unhealthy;
 *   <li>the {@link ForeignSweep}, after each reconciliation that is not held (paused, unreadable),
 *       stops or reports schedulers on this host that asfc did not start ({@code scheduler.foreign});
 *   <li>with {@code watchdog.device}, the {@link DeviceAlarm} turns the deadman's reports on the
 *       device into events, alerts and metrics, every {@code check-interval}.
 * </ul>
 *
 * They share only a {@link SupervisionState}. Events go through the asynchronous {@link EventLog}:
 * no part waits on an event write.
 */
public final class Supervisor implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);
    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final String nodeId;
    private final SchedulerSettings settings;
    private final SchedulerRunner runner;
    private final EventLog events;
    private final ScheduledExecutorService executor;
    private final SupervisionState shared = new SupervisionState();
    private final HealthWatch health;
    private final Reconciler reconciler;
    private final SelfFence selfFence;
    private final List<CuratorCache> caches;
    /** With {@code watchdog.device}: the deadman's reports on it, looked at every check-interval. */
    private final Optional<DeviceAlarm> deviceAlarm;

    public Supervisor(
            CuratorFramework client,
            ZkPaths paths,
            ClusterReader reader,
            String nodeId,
            SchedulerSettings settings,
            Duration selfFenceAfter,
            SchedulerRunner runner,
            Optional<HealthProbe> probe,
            EventLog events,
            Consumer<SchedulerState> reporter,
            Metrics metrics,
            Alerter alerter,
            LongSupplier nanoTime) {
        this.client = client;
        this.nodeId = nodeId;
        this.settings = settings;
        this.runner = runner;
        this.events = events;
        ScheduledThreadPoolExecutor loop =
                new ScheduledThreadPoolExecutor(1, Threads.factory("asfc-supervisor-%d", nodeId));
        // A closing agent starts nothing: a restart waiting out restart-sleep is dropped, not run.
        loop.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        loop.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.executor = loop;
        this.health = new HealthWatch(probe, settings.health(), nodeId, events);
        this.reconciler = new Reconciler(
                client,
                paths,
                reader,
                nodeId,
                settings,
                runner,
                health,
                events,
                reporter,
                metrics,
                nanoTime,
                shared,
                executor,
                () -> state.get() == Lifecycle.STARTED,
                new ForeignSweep(nodeId, settings, runner, new TreeStopper(nanoTime), events, alerter, metrics));
        this.selfFence = new SelfFence(
                client,
                nodeId,
                selfFenceAfter,
                settings.selfFenceStopTimeout(),
                runner,
                shared,
                events,
                metrics,
                nanoTime,
                () -> executor.execute(this::afterReconnect));
        this.deviceAlarm = settings.stopWithAgent()
                ? settings.watchdogDevice()
                        .map(device ->
                                new DeviceAlarm(nodeId, device, runner::watchdogDevice, events, alerter, metrics))
                : Optional.empty();
        this.caches = List.of(
                CuratorCache.build(client, paths.scheduler(), CuratorCache.Options.SINGLE_NODE_CACHE),
                CuratorCache.build(client, paths.control(), CuratorCache.Options.SINGLE_NODE_CACHE));
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("supervisor can be started only once");
        }
        // Child mode sees a death at once; reconcile() counts it and decides, in order.
        runner.onExit(() -> executor.execute(reconciler::reconcile));
        selfFence.start();
        CuratorCacheListener wake =
                CuratorCacheListener.builder().forAll((t, o, n) -> wake()).build();
        for (CuratorCache cache : caches) {
            cache.listenable().addListener(wake);
            cache.start();
        }
        long check = settings.checkInterval().toMillis();
        executor.scheduleWithFixedDelay(reconciler::reconcile, 0, check, TimeUnit.MILLISECONDS);
        deviceAlarm.ifPresent(alarm ->
                executor.scheduleWithFixedDelay(() -> checkDevice(alarm), check, check, TimeUnit.MILLISECONDS));
        health.start(result -> executor.execute(() -> reconciler.onHealth(result)));
    }

    private static void checkDevice(DeviceAlarm alarm) {
        try {
            alarm.check();
        } catch (RuntimeException e) {
            // a periodic task that throws is never run again: log, and look again next time
            LOG.warn("could not look at the deadman's watchdog.device report", e);
        }
    }

    /** Re-evaluates soon, on the supervisor thread. */
    public void wake() {
        if (state.get() == Lifecycle.STARTED) {
            executor.execute(reconciler::reconcile);
        }
    }

    /** On the supervisor thread: the self-fence's event first, then a fresh look. */
    private void afterReconnect() {
        selfFence.recordIfFenced();
        reconciler.reconcile();
    }

    /** Stops the loop, then the local scheduler: an agent that stops must not leave one behind. */
    @Override
    public void close() {
        if (!stopLoop()) {
            return;
        }
        stopScheduler();
    }

    /**
     * A hand-over: stops the loop and hands the scheduler, if one runs, to the on-host deadman, which
     * waits on {@code fifo} for the next agent ({@link SchedulerRunner#prepareHandOver}). When there is
     * nothing to hand over, or the deadman does not accept, it stops the scheduler as {@link #close}.
     *
     * @return the deadman's pid when it accepted
     */
    public OptionalLong handOver(Path fifo) {
        if (!stopLoop()) {
            return OptionalLong.empty();
        }
        try {
            OptionalLong deadman = runner.prepareHandOver(fifo);
            if (deadman.isPresent()) {
                return deadman;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopScheduler();
        return OptionalLong.empty();
    }

    private boolean stopLoop() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return false;
        }
        selfFence.close();
        caches.forEach(CloseableUtils::closeQuietly);
        health.close();
        executor.shutdown();
        try {
            executor.awaitTermination(2 * settings.stopTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    private void stopScheduler() {
        try {
            TreeStopper.Result result;
            shared.stopBegan();
            try {
                result = runner.stop();
            } finally {
                shared.stopEnded();
            }
            if (result.terminated() + result.killed() > 0
                    && client.getZookeeperClient().isConnected()) {
                events.record(
                        "scheduler-stopped",
                        nodeId + ": the agent is stopping; " + result.terminated() + " process(es) ended on SIGTERM, "
                                + result.killed() + " killed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
