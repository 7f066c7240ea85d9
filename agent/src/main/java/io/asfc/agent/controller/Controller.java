package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.LeadershipLostException;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.FencingEntry;
import io.asfc.common.config.Modes.Failback;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.util.ArrayList;
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
 * AssignmentStore} writes, {@link StreakAlerts} counts failures, and with SSH ({@link SshOps},
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
    private final SshOps sshOps;
    private final NodeOps nodeOps;
    private final AssignmentStore store;
    private final Clock clock;
    private final StreakAlerts streak;
    private final StraySweeper sweeper;
    private final AgentlessSupervisor agentless;
    private final HostStopper hostStops;
    private final Placement placement;
    private final Effects effects;
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
            FencingSite fencingSite,
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
        this.sshOps = remote.map(r -> new SshOps(client, paths, writer, r, targets, metrics))
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
                sshOps,
                nodeOps,
                events,
                alerter,
                metrics,
                () -> lease,
                this::wake,
                memory);
        this.agentless = new AgentlessSupervisor(
                policy, tuning, sshOps, nodeOps, sweeper, streak, events, metrics, nanoTime, () -> lease, this::wake);
        Fencing fencing = fencing(tuning, fencingSite, writer, paths, nanoTime);
        this.hostStops = new HostStopper(
                policy, tuning, fencing, nodeOps, events, alerter, nanoTime, () -> lease, this::wake, memory);
        this.effects = new Effects(
                client,
                paths,
                store,
                new MoveReports(events, alerter, metrics),
                new NodeReports(events, alerter),
                hostStops,
                agentless,
                this::wake,
                this::stepAt,
                () -> stepAt(nanoTime.getAsLong() + tuning.sweep().toNanos()));
        this.placement = new Placement(
                policy,
                new LeaveRule.Terms(
                        policy::isAgentless,
                        fencing.available(),
                        tuning.onUnfenceable(),
                        tuning.takeoverGrace().toNanos()),
                tuning.sweep().toNanos(),
                tuning.quarantineBackoff(),
                tuning.maxQuarantineBackoff(),
                tuning.failback() == Failback.TO_PREFERRED
                        ? FailbackTerms.to(tuning.failbackAfter().toNanos())
                        : FailbackTerms.OFF);
        this.caches = List.of(
                CuratorCache.build(client, paths.agents()),
                CuratorCache.build(client, paths.scheduler(), CuratorCache.Options.SINGLE_NODE_CACHE),
                CuratorCache.build(client, paths.control(), CuratorCache.Options.SINGLE_NODE_CACHE));
    }

    /** The methods of {@code controller.fencing} in order; {@code ssh} only while SSH is on. */
    private Fencing fencing(
            Tuning tuning, FencingSite site, FencedWriter writer, ZkPaths paths, LongSupplier nanoTime) {
        List<FencingMethod> methods = new ArrayList<>();
        TreeStopper stopper = new TreeStopper(nanoTime);
        // a fenced transaction that writes nothing: it commits only while this leadership holds
        ShellFencing.LeaseProof proof =
                l -> writer.commit(l, List.of(writer.ops().check().forPath(paths.epoch())));
        for (int i = 0; i < tuning.fencing().size(); i++) {
            FencingEntry entry = tuning.fencing().get(i);
            if (entry.kind() == FencingEntry.Kind.SHELL) {
                methods.add(new ShellFencing(entry.label(i + 1), entry.command(), site, proof, stopper));
            } else if (sshOps != null) {
                methods.add(new SshFencing(sshOps));
            }
        }
        return new Fencing(methods);
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
        if (sshOps != null) {
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

    /** Decides again at {@code atNanos} of the leader's monotonic clock. */
    private void stepAt(long atNanos) {
        if (state.get() == Lifecycle.STARTED) {
            executor.schedule(this::step, Math.max(0, atNanos - nanoTime.getAsLong()), TimeUnit.NANOSECONDS);
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
            ClusterZnodes znodes = ClusterReader.znodes(client, paths);
            if (znodes.anyNewer()) {
                // Written by an agent of a newer major schema: this agent leaves the election
                // (Election, docs/UPGRADE.md); until then it decides nothing on what it cannot read.
                LOG.warn("not deciding: the cluster holds records of a newer major schema");
                return;
            }
            ClusterView view = ClusterView.of(znodes).withUnreachable(memory.unreachable());
            long now = nanoTime.getAsLong();
            if (!view.paused()) { // while paused only an operator's node request is answered
                memory.observe(view, policy, now, agentless.running());
                streak.countFailures(view);
            }
            List<Action> actions = placement.decide(new Placement.Situation(
                    view,
                    memory,
                    l.epoch(),
                    now,
                    clock.millis(),
                    nodeOps.busyNodes(),
                    agentless.failures(),
                    agentless.running()));
            for (Action action : actions) {
                effects.execute(l, view, memory, action);
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
