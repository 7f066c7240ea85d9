package io.asfc.agent.supervisor;

import io.asfc.agent.cluster.AssignmentSnapshot;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.Znode;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.supervisor.health.HealthResult;
import io.asfc.agent.zk.ZkSession;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ZkPaths;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this host match the assignment: reads it fresh (after a sync), compares it with what runs,
 * and starts or stops ({@link Step#decide}). Runs on the supervisor thread only, so starts and
 * ordinary stops never race; the {@link SelfFence} may stop at any time, and a start that saw it do
 * so stops what it started.
 *
 * <ul>
 *   <li>S3: it starts only while connected, on a read made under the current connection that names
 *       this node at the current epoch, and once its own {@code agents/<node>} exists in the
 *       current session (so the leader can see it).
 *   <li>It reports {@code starting} while a start runs, and {@code observed}, the generation
 *       ({@code mzxid}) of the assignment it last acted on, set only once the scheduler matches it.
 *       The leader's leave-rule trusts nothing else.
 *   <li>Events are queued after a start or stop, never while one runs.
 * </ul>
 */
final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    private final CuratorFramework client;
    private final ZkPaths paths;
    private final ClusterReader reader;
    private final String nodeId;
    private final SchedulerSettings settings;
    private final SchedulerRunner runner;
    private final HealthWatch health;
    private final EventLog events;
    private final Consumer<SchedulerState> reporter;
    private final Metrics metrics;
    private final LongSupplier nanoTime;
    private final SupervisionState state;
    private final ScheduledExecutorService executor;
    private final BooleanSupplier active;
    private final Restarts restarts;
    private final ForeignSweep foreign;

    // Only touched on the supervisor thread.
    private boolean diedSinceStart;
    /** Starts and stops done here, so that it re-checks the runner only after one. */
    private long runnerActions;

    private boolean invisibleLogged;
    /** True while runner.start() runs; published as scheduler.starting. */
    private volatile boolean starting;
    /** The mzxid of the assignment last acted on; null before the first decision. */
    private volatile Long observed;

    /**
     * @param executor the supervisor thread, for the reconciliations it schedules itself
     * @param active false once the supervisor is closing: no more reconciliation
     * @param foreign the sweep of schedulers asfc did not start, after each step
     */
    Reconciler(
            CuratorFramework client,
            ZkPaths paths,
            ClusterReader reader,
            String nodeId,
            SchedulerSettings settings,
            SchedulerRunner runner,
            HealthWatch health,
            EventLog events,
            Consumer<SchedulerState> reporter,
            Metrics metrics,
            LongSupplier nanoTime,
            SupervisionState state,
            ScheduledExecutorService executor,
            BooleanSupplier active,
            ForeignSweep foreign) {
        this.client = client;
        this.paths = paths;
        this.reader = reader;
        this.nodeId = nodeId;
        this.settings = settings;
        this.runner = runner;
        this.health = health;
        this.events = events;
        this.reporter = reporter;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.state = state;
        this.executor = executor;
        this.active = active;
        this.foreign = foreign;
        this.restarts = new Restarts(settings.restartSleep(), settings.startTimeout());
    }

    void reconcile() {
        if (!active.getAsBoolean()) {
            return;
        }
        metrics.progress(Loop.SUPERVISOR);
        try {
            long generation = state.connectionGeneration();
            if (state.suspended() || !client.getZookeeperClient().isConnected()) {
                report(runner.status());
                return;
            }
            AssignmentSnapshot read = reader.readAssignment();
            Znode<Assignment> assignment = read.assignment();
            LocalStatus status = runner.status();
            boolean mine = read.names(nodeId);
            // A newer major's assignment or control is held like garbage: never started on (S3),
            // never stopped for (no restart; the leave-rule gets no proof from this agent either).
            boolean unreadable = assignment.unreadable() || read.control().state() == Znode.State.NEWER;
            Step step = Step.decide(read.paused(), unreadable, mine, status.running());
            if (step == Step.HOLD) {
                report(status);
                return; // paused: no agent starts or stops anything; S5: unreadable data is never acted on,
                // nor is a record of a newer major schema (docs/UPGRADE.md)
            }
            if (!status.running() && state.expectRunning() && !state.stopping()) {
                // Seen here, in order, whatever woke us: counted once, before any restart.
                state.expectRunning(false);
                diedSinceStart = true;
                metrics.schedulerFailed();
                failed("scheduler-died", nodeId + ": the scheduler exited on its own");
            }
            if (!state.stopping()) {
                // before a start: what was not started here goes first (never two, even for a moment);
                // on this thread, so never while this agent starts or stops its own scheduler
                foreign.sweep();
            }
            long actionsBefore = runnerActions;
            if (!mine) {
                metrics.schedulerNotAssigned(); // a failed scheduler is not restarted here: no restart to time
            }
            switch (step) {
                case STOP -> stopScheduler(assignment.absent() ? "no node is assigned" : describe(assignment.value()));
                case START -> startIfDue(assignment.value(), read.epoch(), generation);
                case KEEP -> keepHealthy();
                default -> {}
            }
            // a fresh look only when something was started or stopped (a check may be a command)
            LocalStatus after = runnerActions == actionsBefore ? status : runner.status();
            Long assignmentZxid = read.generation();
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

    private void startIfDue(Assignment assignment, long epoch, long generation) throws InterruptedException {
        if (assignment.epoch() != epoch) {
            LOG.debug(
                    "assigned at epoch {}, current epoch {}: waiting for the leader to confirm",
                    assignment.epoch(),
                    epoch);
            return;
        }
        long wait = restarts.waitNanos(nanoTime.getAsLong());
        if (wait > 0) {
            executor.schedule(this::reconcile, wait, TimeUnit.NANOSECONDS);
            return;
        }
        if (!visible()) {
            executor.schedule(this::reconcile, settings.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        // S3: only on what was read under this very connection, which must still be up.
        if (!state.sameConnection(generation) || !client.getZookeeperClient().isConnected()) {
            return;
        }
        if (diedSinceStart) {
            runner.stop(); // what a dead scheduler left behind goes before a new one starts
            diedSinceStart = false;
        }
        long fencesBefore = state.selfFences();
        runnerActions++;
        starting = true;
        report(LocalStatus.NOT_RUNNING);
        String started;
        try {
            runner.start();
            metrics.schedulerStarted();
            state.expectRunning(true);
            restarts.started(nanoTime.getAsLong());
            // look again the moment the run becomes stable, so the failure count drops on time
            restarts.nanosUntilStable(nanoTime.getAsLong())
                    .ifPresent(delay -> executor.schedule(this::reconcile, delay, TimeUnit.NANOSECONDS));
            health.clear();
            int failures = restarts.failures();
            started = nodeId + ": pid " + runner.status().pid()
                    + (failures > 0 ? " (after " + failures + " failure(s))" : "");
        } catch (SchedulerStartException e) {
            diedSinceStart = true;
            failed("scheduler-start-failed", e.getMessage());
            return;
        } finally {
            starting = false;
        }
        if (state.selfFences() != fencesBefore || !state.sameConnection(generation)) {
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
    private boolean visible() {
        boolean visible = ZkSession.ownsNode(client, paths.agent(nodeId));
        if (!visible && !invisibleLogged) {
            LOG.info("not starting the scheduler until {} exists in this ZooKeeper session", paths.agent(nodeId));
        }
        invisibleLogged = !visible;
        return visible;
    }

    private void keepHealthy() throws InterruptedException {
        long now = nanoTime.getAsLong();
        Optional<Duration> unhealthy = health.overdue(now);
        if (unhealthy.isPresent()) {
            metrics.schedulerFailed();
            stopScheduler("unhealthy for " + unhealthy.get().toSeconds() + "s");
            failed("scheduler-unhealthy-restart", nodeId + ": restarting an unhealthy scheduler");
        } else if (restarts.resetIfStable(now)) {
            LOG.info("scheduler has run for {}; failure count reset", restarts.stableAfter());
        }
    }

    /** A health probe's result, on the supervisor thread. */
    void onHealth(HealthResult result) {
        if (!runner.status().running()) {
            health.clear();
            return;
        }
        health.observe(result, nanoTime.getAsLong(), restarts.runningSinceNanos());
        reconcile();
    }

    /** Counts a failure; called inside reconcile(), which publishes the state at its end. */
    private void failed(String type, String detail) {
        int failures = restarts.failed(nanoTime.getAsLong());
        health.clear();
        LOG.warn(
                "{}: {} (failure {} of {} before failover)",
                type,
                detail,
                failures,
                settings.maxRestartsBeforeFailover());
        events.record(type, detail + " (failure " + failures + ")");
        executor.schedule(this::reconcile, restarts.restartSleep().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void stopScheduler(String reason) throws InterruptedException {
        stopScheduler(reason, settings.stopTimeout());
    }

    private void stopScheduler(String reason, Duration grace) throws InterruptedException {
        TreeStopper.Result result;
        state.stopBegan();
        try {
            runnerActions++;
            result = runner.stop(grace);
            health.clear();
        } finally {
            state.stopEnded();
        }
        // events are queued after the stop, never while stopping
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

    private void report(LocalStatus status) {
        reporter.accept(new SchedulerState(
                status.running(),
                status.running() && health.healthy(),
                status.pid(),
                status.since(),
                restarts.failures(),
                starting,
                observed));
    }

    private static String describe(Assignment a) {
        return a.node() == null ? "being moved: " + a.reason() : "assigned to " + a.node();
    }
}
