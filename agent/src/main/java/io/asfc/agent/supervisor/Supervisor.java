package io.asfc.agent.supervisor;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.supervisor.health.HealthProbe;
import io.asfc.agent.supervisor.health.HealthResult;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this host matching the assignment. Every decision re-reads ZooKeeper after a sync (the
 * caches only wake it up), and every start and ordinary stop runs on one thread.
 *
 * <ul>
 *   <li>S3: it starts a scheduler only while connected, on a fresh read that names this node at
 *       the current epoch, and only once its own {@code agents/<node>} exists in the current
 *       session (so the leader can see it); stopping is always allowed.
 *   <li>S4: when the connection stays SUSPENDED for {@code self-fence-after}, it stops the local
 *       scheduler on a thread of its own that waits on no lock and no start (SIGKILL after
 *       {@code self-fence-stop-timeout}); a start that was running then is stopped as it returns.
 *   <li>Reports: {@code starting} while a start runs, and {@code observed}, the generation
 *       ({@code mzxid}) of the assignment it last acted on, set only once the scheduler matches
 *       it. The leader's leave-rule trusts nothing else.
 * </ul>
 */
public final class Supervisor implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final String nodeId;
    private final SchedulerSettings settings;
    private final Duration selfFenceAfter;
    private final SchedulerRunner runner;
    private final Optional<HealthProbe> health;
    private final EventLog events;
    private final Consumer<SchedulerState> reporter;
    private final Metrics metrics;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService executor;
    private final ScheduledExecutorService healthExecutor;
    private final ScheduledExecutorService fenceExecutor;
    /** Counts self-fences: a start that saw it change while it ran stops what it started. */
    private final AtomicLong selfFences = new AtomicLong();

    private final ConnectionStateListener connectionListener = this::connectionChanged;
    private final List<CuratorCache> caches;

    // Only touched on the supervisor thread.
    private int failures;
    private long notBeforeNanos;
    private long runningSinceNanos;
    private Long unhealthySinceNanos;
    private boolean stopping;
    private boolean diedSinceStart;
    /** Starts and stops done by the loop, so that it re-checks the runner only after one. */
    private long runnerActions;
    /** A start succeeded and no stop of ours followed: not running then means it died. */
    private volatile boolean expectRunning;
    /** True while runner.start() runs; published as scheduler.starting. */
    private volatile boolean starting;
    /** The mzxid of the assignment this supervisor last acted on; null before its first decision. */
    private volatile Long observed;

    private boolean invisibleLogged;

    // Set on Curator's event thread without blocking, read by every thread.
    private volatile boolean suspended;
    /** Changes at every connection state change: a start needs the connection it read under. */
    private final AtomicLong connectionGeneration = new AtomicLong();

    private volatile ScheduledFuture<?> selfFence;
    private volatile Long fencedAtNanos;

    public Supervisor(
            CuratorFramework client,
            ZkPaths paths,
            String nodeId,
            SchedulerSettings settings,
            Duration selfFenceAfter,
            SchedulerRunner runner,
            Optional<HealthProbe> health,
            EventLog events,
            Consumer<SchedulerState> reporter,
            Metrics metrics,
            LongSupplier nanoTime) {
        this.client = client;
        this.paths = paths;
        this.nodeId = nodeId;
        this.settings = settings;
        this.selfFenceAfter = selfFenceAfter;
        this.runner = runner;
        this.health = health;
        this.events = events;
        this.reporter = reporter;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-supervisor-%d", nodeId));
        this.healthExecutor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-health-%d", nodeId));
        this.fenceExecutor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-self-fence-%d", nodeId));
        this.caches = List.of(
                CuratorCache.build(client, paths.scheduler(), CuratorCache.Options.SINGLE_NODE_CACHE),
                CuratorCache.build(client, paths.control(), CuratorCache.Options.SINGLE_NODE_CACHE));
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("supervisor can be started only once");
        }
        runner.onExit(() -> executor.execute(this::onSchedulerExit));
        client.getConnectionStateListenable().addListener(connectionListener);
        CuratorCacheListener wake =
                CuratorCacheListener.builder().forAll((t, o, n) -> wake()).build();
        for (CuratorCache cache : caches) {
            cache.listenable().addListener(wake);
            cache.start();
        }
        long check = settings.checkInterval().toMillis();
        executor.scheduleWithFixedDelay(this::reconcile, 0, check, TimeUnit.MILLISECONDS);
        health.ifPresent(probe -> {
            long every = settings.health().interval().toMillis();
            healthExecutor.scheduleWithFixedDelay(
                    () -> {
                        HealthResult result = probe.check();
                        if (!Thread.currentThread().isInterrupted()) { // not a check cut short by close()
                            executor.execute(() -> onHealth(result));
                        }
                    },
                    every,
                    every,
                    TimeUnit.MILLISECONDS);
        });
    }

    /** Re-evaluates soon, on the supervisor thread. */
    public void wake() {
        if (state.get() == Lifecycle.STARTED) {
            executor.execute(this::reconcile);
        }
    }

    private void reconcile() {
        if (state.get() != Lifecycle.STARTED) {
            return;
        }
        metrics.progress(Loop.SUPERVISOR);
        try {
            long generation = connectionGeneration.get();
            if (suspended || !client.getZookeeperClient().isConnected()) {
                report();
                return;
            }
            client.sync().forPath(paths.scheduler());
            Znode<ControlRecord> control = Znode.read(client, paths.control(), ControlRecord.class);
            Znode<Assignment> assignment = Znode.read(client, paths.scheduler(), Assignment.class);
            Stat epoch = client.checkExists().forPath(paths.epoch());
            LocalStatus status = runner.status();
            if (control.present() && control.value().paused()) {
                report(status);
                return; // paused: no agent starts or stops anything
            }
            if (assignment.state() == Znode.State.MALFORMED) {
                report(status);
                return; // S5: unreadable data is ignored, never acted on
            }
            Long assignmentZxid = assignment.present() ? assignment.stat().getMzxid() : null;
            if (!status.running() && expectRunning && !stopping) {
                // Seen here, in order, whatever woke us: counted once, before any restart.
                expectRunning = false;
                diedSinceStart = true;
                metrics.schedulerFailed();
                failed("scheduler-died", nodeId + ": the scheduler exited on its own");
            }
            long actionsBefore = runnerActions;
            boolean mine =
                    assignment.present() && nodeId.equals(assignment.value().node());
            if (!mine) {
                metrics.schedulerNotAssigned(); // a failed scheduler is not restarted here: no restart to time
            }
            if (status.running() && !mine) {
                stopScheduler(assignment.absent() ? "no node is assigned" : describe(assignment.value()));
            } else if (!status.running() && mine) {
                startIfDue(assignment.value(), epoch == null ? 0 : epoch.getVersion(), generation);
            } else if (status.running()) {
                keepHealthy();
            }
            // a fresh look only when something was started or stopped (a check may be a command)
            LocalStatus after = runnerActions == actionsBefore ? status : runner.status();
            if (assignmentZxid != null && after.running() == mine && !starting) {
                observed = assignmentZxid; // acted on it: the scheduler matches this assignment
            }
            report(after);
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn(
                    "reconcile failed; retrying in {}ms",
                    settings.checkInterval().toMillis(),
                    e);
        }
    }

    private void startIfDue(Assignment assignment, long epoch, long generation) throws Exception {
        if (assignment.epoch() != epoch) {
            LOG.debug(
                    "assigned at epoch {}, current epoch {}: waiting for the leader to confirm",
                    assignment.epoch(),
                    epoch);
            return;
        }
        long wait = notBeforeNanos - nanoTime.getAsLong();
        if (wait > 0) {
            executor.schedule(this::reconcile, wait, TimeUnit.NANOSECONDS);
            return;
        }
        if (!visible()) {
            executor.schedule(this::reconcile, settings.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        // S3: only on what was read under this very connection, which must still be up.
        if (suspended
                || generation != connectionGeneration.get()
                || !client.getZookeeperClient().isConnected()) {
            return;
        }
        if (diedSinceStart) {
            runner.stop(); // what a dead scheduler left behind goes before a new one starts
            diedSinceStart = false;
        }
        long fencesBefore = selfFences.get();
        runnerActions++;
        starting = true;
        report(LocalStatus.NOT_RUNNING);
        String started;
        try {
            runner.start();
            metrics.schedulerStarted();
            expectRunning = true;
            runningSinceNanos = nanoTime.getAsLong();
            unhealthySinceNanos = null;
            started = nodeId + ": pid " + runner.status().pid()
                    + (failures > 0 ? " (after " + failures + " failure(s))" : "");
        } catch (SchedulerStartException e) {
            diedSinceStart = true;
            failed("scheduler-start-failed", e.getMessage());
            return;
        } finally {
            starting = false;
        }
        if (selfFences.get() != fencesBefore || suspended || generation != connectionGeneration.get()) {
            // The connection went while the start ran (a start-command may take start-timeout): what
            // it started must not outlive the self-fence.
            stopScheduler("the connection to ZooKeeper changed while it started", settings.selfFenceStopTimeout());
            return;
        }
        events.record("scheduler-started", started);
    }

    /**
     * S3: the leader sees this agent only through its {@code agents/<node>}; after a new session
     * that node comes back at the next heartbeat. Until then the leader may be taking the scheduler
     * over from this node, so nothing starts.
     */
    private boolean visible() throws Exception {
        Stat own = client.checkExists().forPath(paths.agent(nodeId));
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        boolean visible = own != null && own.getEphemeralOwner() == session;
        if (!visible && !invisibleLogged) {
            LOG.info("not starting the scheduler until {} exists in this ZooKeeper session", paths.agent(nodeId));
        }
        invisibleLogged = !visible;
        return visible;
    }

    private void keepHealthy() throws InterruptedException {
        long now = nanoTime.getAsLong();
        Long since = unhealthySinceNanos;
        if (since != null && now - since >= settings.health().unhealthyAfter().toNanos()) {
            metrics.schedulerFailed();
            stopScheduler("unhealthy for " + Duration.ofNanos(now - since).toSeconds() + "s");
            failed("scheduler-unhealthy-restart", nodeId + ": restarting an unhealthy scheduler");
        } else if (failures > 0
                && now - runningSinceNanos >= settings.startTimeout().toNanos()) {
            LOG.info("scheduler has run for {}; failure count reset", settings.startTimeout());
            failures = 0;
        }
    }

    /** Child mode sees a death at once; reconcile() counts it and decides, in order. */
    private void onSchedulerExit() {
        reconcile();
    }

    /** Counts a failure; called inside reconcile(), which publishes the state at its end. */
    private void failed(String type, String detail) {
        failures++;
        notBeforeNanos = nanoTime.getAsLong() + settings.restartSleep().toNanos();
        unhealthySinceNanos = null;
        LOG.warn(
                "{}: {} (failure {} of {} before failover)",
                type,
                detail,
                failures,
                settings.maxRestartsBeforeFailover());
        events.record(type, detail + " (failure " + failures + ")");
        executor.schedule(this::reconcile, settings.restartSleep().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void stopScheduler(String reason) throws InterruptedException {
        stopScheduler(reason, settings.stopTimeout());
    }

    private void stopScheduler(String reason, Duration grace) throws InterruptedException {
        TreeStopper.Result result;
        stopping = true;
        try {
            runnerActions++;
            expectRunning = false;
            result = runner.stop(grace);
            unhealthySinceNanos = null;
        } finally {
            stopping = false;
        }
        // events are written after the stop, never while stopping
        String detail = nodeId + ": " + reason + "; " + result.terminated() + " process(es) ended on SIGTERM, "
                + result.killed() + " killed";
        if (!result.stopped()) {
            LOG.error("could not stop every scheduler process: {}", result.survivors());
            events.record("scheduler-stop-failed", detail + "; still alive: " + result.survivors());
        } else if (result.terminated() + result.killed() > 0) {
            events.record("scheduler-stopped", detail);
        } else {
            LOG.debug("stop found nothing to stop ({})", reason);
        }
    }

    private void onHealth(HealthResult result) {
        if (!runner.status().running()) {
            unhealthySinceNanos = null;
            return;
        }
        long now = nanoTime.getAsLong();
        boolean inGrace = result.status() == HealthResult.Status.UNREACHABLE
                && now - runningSinceNanos < settings.health().unhealthyAfter().toNanos();
        if (result.healthy()) {
            if (unhealthySinceNanos != null) {
                events.record("scheduler-healthy", nodeId + ": " + result.detail());
            }
            unhealthySinceNanos = null;
        } else if (!inGrace && unhealthySinceNanos == null) {
            unhealthySinceNanos = now;
            events.record("scheduler-unhealthy", nodeId + ": " + result.detail());
        }
        reconcile();
    }

    /**
     * On Curator's event thread: only flags and timers, nothing that blocks. The self-fence runs on
     * its own thread, so no ZooKeeper call stuck on the supervisor thread can delay it.
     */
    private void connectionChanged(CuratorFramework c, ConnectionState newState) {
        connectionGeneration.incrementAndGet();
        switch (newState) {
            case SUSPENDED -> {
                suspended = true;
                if (selfFence == null) {
                    selfFence =
                            fenceExecutor.schedule(this::selfFence, selfFenceAfter.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            case LOST -> {
                suspended = true;
                fenceExecutor.execute(this::selfFence);
            }
            case CONNECTED, RECONNECTED -> {
                suspended = false;
                ScheduledFuture<?> pendingFence = selfFence;
                if (pendingFence != null) {
                    pendingFence.cancel(false);
                    selfFence = null;
                }
                executor.execute(this::afterReconnect);
            }
            default -> {}
        }
    }

    private void afterReconnect() {
        Long fenced = fencedAtNanos;
        if (fenced != null) {
            fencedAtNanos = null;
            long ms = (nanoTime.getAsLong() - fenced) / 1_000_000;
            events.record(
                    "self-fenced",
                    nodeId + ": stopped the local scheduler after " + selfFenceAfter.toMillis()
                            + "ms without ZooKeeper (reconnected " + ms + "ms later)");
        }
        reconcile();
    }

    /** S4: without ZooKeeper for self-fence-after, assume another host may take over: stop. */
    private void selfFence() {
        selfFence = null;
        if (!suspended || state.get() != Lifecycle.STARTED) {
            return;
        }
        if (client.getZookeeperClient().isConnected()) {
            // Reconnected (same session) at the very moment the timer fired, before Curator's
            // RECONNECTED reached this listener: the host is not cut off, its session lives, and
            // no other host may take over. Seen in the proving ground at a ZooKeeper leader kill.
            LOG.info("not self-fencing: reconnected to ZooKeeper just now");
            return;
        }
        // No lock: the self-fence never waits on a start (the start stops what it started when it
        // sees selfFences change) nor on an ordinary stop (both stops are idempotent).
        selfFences.incrementAndGet();
        expectRunning = false;
        stopping = true;
        try {
            TreeStopper.Result result = runner.stop(settings.selfFenceStopTimeout()); // stopping is always allowed
            if (result.terminated() + result.killed() > 0) {
                metrics.selfFenced();
                LOG.warn(
                        "self-fenced: no ZooKeeper for {}ms; stopped the local scheduler ({} process(es), {} killed)",
                        selfFenceAfter.toMillis(),
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
            stopping = false;
        }
    }

    private void report() {
        report(runner.status());
    }

    private void report(LocalStatus status) {
        reporter.accept(new SchedulerState(
                status.running(),
                status.running() && unhealthySinceNanos == null,
                status.pid(),
                status.since(),
                failures,
                starting,
                observed));
    }

    private static String describe(Assignment a) {
        return a.node() == null ? "being moved: " + a.reason() : "assigned to " + a.node();
    }

    /** Stops the loop, then the local scheduler: an agent that stops must not leave one behind. */
    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        caches.forEach(CloseableUtils::closeQuietly);
        healthExecutor.shutdownNow();
        fenceExecutor.shutdownNow();
        executor.shutdown();
        try {
            executor.awaitTermination(2 * settings.stopTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
            stopping = true;
            expectRunning = false;
            TreeStopper.Result result = runner.stop();
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
