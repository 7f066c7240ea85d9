package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.cluster.Znode;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.LeadershipLostException;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACTIVE agent's policy: where the scheduler runs. Every write is fenced (S2). It
 *
 * <ul>
 *   <li>assigns the first eligible node in {@code nodes} order when nothing is assigned;
 *   <li>on becoming leader keeps the assignment while its agent is live, re-stamping it with the
 *       new epoch: a controller failover never restarts the scheduler;
 *   <li>moves it when the assigned node failed {@code max-restarts-before-failover} times in a row
 *       (and quarantines that node), or on an operator's {@code failover};
 *   <li>when the assigned agent is gone (its session expired), moves it to the next eligible node
 *       once the leave-rule ({@link LeaveRule}) holds for the node it leaves.
 * </ul>
 *
 * A move has two phases: first nobody is assigned; only when the leave-rule holds for the node the
 * scheduler leaves is the new node assigned. So a move never overlaps.
 *
 * <p>This class is the loop that reads the cluster and decides; its collaborators act: {@link
 * AssignmentStore} writes, {@link StreakAlerts} counts failures, and with SSH ({@link Enforcement},
 * off when {@code ssh.enabled = false}) {@link StraySweeper} stops stray schedulers, {@link
 * AgentlessSupervisor} runs the scheduler of an agentless node, and {@link HostStopper} stops a
 * host's scheduler when the leave-rule needs it. All of them run on this controller's single
 * executor thread, so none of their state is shared between threads; what belongs to a term of
 * leadership is reset in {@link #onRole}. SSH calls run on one serial queue per node ({@link
 * NodeOps}) and report back to that thread, so a hung host never blocks a decision. A node with an
 * SSH call in flight is never assigned until that call ends.
 */
public final class Controller implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final Policy policy;
    private final Tuning tuning;
    private final String nodeId;
    private final Alerter alerter;
    private final Metrics metrics;
    private final Enforcement enforcement;
    private final NodeOps nodeOps;
    private final AssignmentStore store;
    private final Clock clock;
    private final StreakAlerts streak;
    private final StraySweeper sweeper;
    private final AgentlessSupervisor agentless;
    private final HostStopper hostStops;
    private final Placement placement;
    private final MoveReports reports;
    private final NodeReports nodeReports;
    private final LongSupplier nanoTime;
    /** Told when a fenced write proved this leadership gone, so the election gives it up too. */
    private final Consumer<Lease> leadershipLost;

    private final ScheduledExecutorService executor;
    private final List<CuratorCache> caches;

    // Only touched on the controller thread.
    private Lease lease;
    /** What this leader saw and did in its term; a new term starts with a new one. */
    private ControllerMemory memory = new ControllerMemory();

    public Controller(
            CuratorFramework client,
            ZkPaths paths,
            String nodeId,
            Policy policy,
            Tuning tuning,
            FencedWriter writer,
            EventLog events,
            Alerter alerter,
            Optional<RemoteScheduler> remote,
            Function<String, SshTarget> targets,
            Metrics metrics,
            Clock clock,
            LongSupplier nanoTime,
            Consumer<Lease> leadershipLost) {
        this.client = client;
        this.paths = paths;
        this.nodeId = nodeId;
        this.policy = policy;
        this.tuning = tuning;
        this.alerter = alerter;
        this.metrics = metrics;
        this.enforcement = remote.map(r -> new Enforcement(client, paths, writer, r, targets, metrics))
                .orElse(null);
        this.nanoTime = nanoTime;
        this.leadershipLost = leadershipLost;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-controller-%d", nodeId));
        this.nodeOps = new NodeOps(nodeId, executor);
        this.clock = clock;
        this.store = new AssignmentStore(client, paths, writer, events, clock);
        this.streak = new StreakAlerts(alerter, tuning.alertAfter(), policy.maxFailures());
        this.sweeper = new StraySweeper(
                client,
                paths,
                policy,
                tuning,
                enforcement,
                nodeOps,
                events,
                alerter,
                metrics,
                () -> lease,
                this::wake,
                memory);
        this.agentless = new AgentlessSupervisor(
                policy,
                tuning,
                enforcement,
                nodeOps,
                sweeper,
                streak,
                events,
                metrics,
                nanoTime,
                () -> lease,
                this::wake);
        this.hostStops = new HostStopper(
                policy, tuning, enforcement, nodeOps, events, alerter, nanoTime, () -> lease, this::wake, memory);
        this.reports = new MoveReports(events, alerter, metrics);
        this.nodeReports = new NodeReports(events, alerter);
        this.placement = new Placement(
                policy,
                new LeaveRule.Terms(
                        policy::isAgentless,
                        enforcement != null,
                        tuning.onUnfenceable(),
                        tuning.takeoverGrace().toNanos()),
                tuning.sweep().toNanos(),
                tuning.quarantineBackoff(),
                tuning.maxQuarantineBackoff());
        this.caches = List.of(
                CuratorCache.build(client, paths.agents()),
                CuratorCache.build(client, paths.scheduler(), CuratorCache.Options.SINGLE_NODE_CACHE),
                CuratorCache.build(client, paths.control(), CuratorCache.Options.SINGLE_NODE_CACHE));
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("controller can be started only once");
        }
        CuratorCacheListener wake =
                CuratorCacheListener.builder().forAll((t, o, n) -> wake()).build();
        for (CuratorCache cache : caches) {
            cache.listenable().addListener(wake);
            cache.start();
        }
        long ms = tuning.step().toMillis();
        executor.scheduleWithFixedDelay(this::step, ms, ms, TimeUnit.MILLISECONDS);
        if (enforcement != null) {
            long sweep = tuning.sweep().toMillis();
            executor.scheduleWithFixedDelay(this::sweep, sweep, sweep, TimeUnit.MILLISECONDS);
            long check = tuning.agentlessCheck().toMillis();
            executor.scheduleWithFixedDelay(this::checkAgentless, check, check, TimeUnit.MILLISECONDS);
        }
    }

    /** Called by the election on its thread: a lease while ACTIVE, empty while STANDBY. */
    public void onRole(Optional<Lease> newLease) {
        executor.execute(() -> {
            lease = newLease.orElse(null);
            memory = new ControllerMemory();
            sweeper.newTerm(memory);
            hostStops.newTerm(memory);
            agentless.newTerm();
            if (lease != null) {
                alerter.raise(new Alert(
                        AlertKind.LEADERSHIP_CHANGE,
                        nodeId,
                        nodeId + " became the ACTIVE controller at epoch " + lease.epoch(),
                        "it now decides where the scheduler runs"));
                step();
            }
        });
    }

    private void wake() {
        if (state.get() == Lifecycle.STARTED) {
            executor.execute(this::step);
        }
    }

    private void sweep() {
        Lease l = lease;
        if (l != null && state.get() == Lifecycle.STARTED) {
            sweeper.sweep(l);
        }
    }

    private void checkAgentless() {
        Lease l = lease;
        if (l != null && state.get() == Lifecycle.STARTED) {
            agentless.check(l);
        }
    }

    /** Reads the cluster, asks {@link Placement} what to do, and does it. */
    private void step() {
        metrics.progress(Loop.CONTROLLER);
        Lease l = lease;
        if (l == null || state.get() != Lifecycle.STARTED) {
            return;
        }
        try {
            ClusterView view = ClusterView.read(client, paths).withUnreachable(memory.unreachable());
            long now = nanoTime.getAsLong();
            if (!view.paused()) { // while paused only an operator's node request is answered
                memory.observe(view, policy, now);
                streak.countFailures(view);
            }
            List<Placement.Action> actions = placement.decide(new Placement.Situation(
                    view,
                    memory,
                    l.epoch(),
                    now,
                    clock.millis(),
                    nodeOps.busyNodes(),
                    agentless.failures(),
                    agentless.running()));
            for (Placement.Action action : actions) {
                execute(l, view, action);
            }
        } catch (LeadershipLostException e) {
            LOG.warn("{}; standing by until elected again", e.getMessage());
            lease = null;
            leadershipLost.accept(l); // no zombie ACTIVE: the election gives up this lease and re-joins
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            if (ZkException.isConnectionLoss(e)) {
                // the connection change is logged once (ConnectionLog), not at every step while it lasts
                LOG.debug("controller step failed without ZooKeeper; retrying", e);
            } else {
                LOG.warn("controller step failed; retrying", e);
            }
        }
    }

    /** One action of {@link Placement}, with the view it was decided from (writes check its versions). */
    private void execute(Lease l, ClusterView view, Placement.Action action) {
        if (action instanceof Placement.Lift a) {
            store.writeNodes(l, view, List.of(a.write()), null);
            nodeReports.lifted(a);
        } else if (action instanceof Placement.Recovered a) {
            store.writeNodes(l, view, List.of(a.write()), null);
            nodeReports.recovered(a);
        } else if (action instanceof Placement.Operate a) {
            store.writeNodes(l, view, a.writes(), a.answer());
            nodeReports.operated(a);
        } else if (action instanceof Placement.Assign a) {
            store.assign(l, view, a.node(), a.reason());
            reports.assigned(memory, a.node(), l.epoch(), a.reason());
        } else if (action instanceof Placement.BeginMove a) {
            reports.began(a);
            memory.moveReason(a.why());
            String text = "moving" + (a.from() == null ? "" : " from " + a.from())
                    + (a.to() == null ? "" : " to " + a.to()) + ": " + a.reason();
            store.beginMove(l, view, a.from(), a.to(), a.requestId(), text);
            wake();
        } else if (action instanceof Placement.Quarantine a) {
            store.writeNodes(l, view, List.of(new Placement.NodeWrite(a.node(), a.record())), null);
            nodeReports.quarantined(a);
            if (a.agentless()) {
                agentless.quarantined(a.node());
            }
        } else if (action instanceof Placement.StopHost a) {
            hostStops.stop(l, a.node(), a.generation());
        } else if (action instanceof Placement.WakeAt a) {
            executor.schedule(this::step, Math.max(0, a.atNanos() - nanoTime.getAsLong()), TimeUnit.NANOSECONDS);
        } else if (action instanceof Placement.MoveBlocked a) {
            hostStops.blocked(a.node(), a.why());
            executor.schedule(this::step, tuning.sweep().toMillis(), TimeUnit.MILLISECONDS);
        } else if (action instanceof Placement.Moved a) {
            memory.moveReason(null);
            reports.moved(a);
            answer(l, a);
        } else if (action instanceof Placement.Answer a) {
            store.answer(l, view, a.text());
        } else if (action instanceof Placement.NoEligible a) {
            reports.noEligible(memory, a.why());
        } else if (action instanceof Placement.SuperviseAgentless a) {
            if (a.node() == null) {
                agentless.unassigned();
            } else {
                agentless.assigned(a.node());
            }
        } else if (action instanceof Placement.MoveCompleted) {
            reports.completed();
        }
    }

    /** Answers the operator's request a finished move carried, if {@code control} still holds it. */
    private void answer(Lease l, Placement.Moved m) {
        if (m.requestId() == null) {
            return;
        }
        // read now: the move's first phase wrote it ("accepted: ...")
        Znode<ControlRecord> control = Znode.read(client, paths.control(), ControlRecord.class);
        if (control.present() && m.requestId().equals(control.value().requestId())) {
            store.answer(l, control, "moved to " + m.to() + (m.requestedTarget() ? "" : ": " + m.reason()));
        }
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        caches.forEach(CloseableUtils::closeQuietly);
        executor.shutdownNow();
        nodeOps.close();
    }
}
