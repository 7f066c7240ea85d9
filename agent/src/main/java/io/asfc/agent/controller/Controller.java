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
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
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
    private final EventLog events;
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
    private final LeaveRule.Terms terms;
    private final LongSupplier nanoTime;
    /** Told when a fenced write proved this leadership gone, so the election gives it up too. */
    private final Consumer<Lease> leadershipLost;

    private final ScheduledExecutorService executor;
    private final List<CuratorCache> caches;

    // Only touched on the controller thread.
    private Lease lease;
    /** What this leader saw and did in its term; a new term starts with a new one. */
    private ControllerMemory memory = new ControllerMemory();

    private boolean noEligibleReported;
    /** Why this leader began the move under way, for the failover metric; null when another leader did. */
    private Metrics.FailoverReason moveReason;

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
        this.events = events;
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
        this.terms = new LeaveRule.Terms(
                policy::isAgentless,
                enforcement != null,
                tuning.onUnfenceable(),
                tuning.takeoverGrace().toNanos());
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
            moveReason = null;
            noEligibleReported = false;
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

    private void step() {
        metrics.progress(Loop.CONTROLLER);
        Lease l = lease;
        if (l == null || state.get() != Lifecycle.STARTED) {
            return;
        }
        try {
            ClusterView view = ClusterView.read(client, paths).withUnreachable(memory.unreachable());
            if (view.paused()) {
                return;
            }
            noteAbsences(view);
            streak.countFailures(view);
            store.liftQuarantines(l, policy.quarantinesToLift(view));
            Znode<Assignment> a = view.assignment();
            Optional<String> runsIt = a.present() ? Optional.empty() : soleRunner(view);
            if (runsIt.isPresent()) {
                // Unreadable or empty, but exactly one live agent runs the scheduler: naming that
                // node starts nothing anywhere, so it is repaired in place, with no restart (S5).
                assign(
                        l,
                        view,
                        runsIt.get(),
                        "repaired an unreadable or missing assignment: " + runsIt.get() + " runs the scheduler");
            } else if (!a.present()) {
                // Empty (a new cluster, or cleared) or unreadable: where a scheduler may run is
                // unknown, so this is a move from anywhere, under the leave-rule for every node.
                String why = a.absent() ? "initial assignment" : "the assignment was unreadable";
                beginMove(
                        l,
                        view,
                        null,
                        policy.firstEligible(view).orElse(null),
                        why,
                        null,
                        Metrics.FailoverReason.OTHER);
            } else if (a.value().isMoving()) {
                continueMove(l, view);
            } else if (!handleRequest(l, view)) {
                keepAssigned(l, view);
            }
        } catch (LeadershipLostException e) {
            LOG.warn("{}; standing by until elected again", e.getMessage());
            lease = null;
            leadershipLost.accept(l); // no zombie ACTIVE: the election gives up this lease and re-joins
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("controller step failed; retrying", e);
        }
    }

    /**
     * The one node whose live agent reports a running scheduler, when exactly one does and no agent
     * record is unreadable. (A scheduler on an agentless node is not seen here; naming this node
     * still starts nothing, and the sweep stops any other.)
     */
    private Optional<String> soleRunner(ClusterView view) {
        List<String> running = new java.util.ArrayList<>();
        for (java.util.Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            if (!e.getValue().present()) {
                return Optional.empty();
            }
            if (e.getValue().value().scheduler().running()) {
                running.add(e.getKey());
            }
        }
        return running.size() == 1 && policy.eligible(view, running.get(0))
                ? Optional.of(running.get(0))
                : Optional.empty();
    }

    /** (c) counts takeover-grace from when this leader first saw a node's agent absent. */
    private void noteAbsences(ClusterView view) {
        long now = nanoTime.getAsLong();
        for (String node : policy.order(view)) {
            if (view.agents().containsKey(node)) {
                memory.seenPresent(node);
            } else if (!policy.isAgentless(node)) {
                memory.seenAbsent(node, now);
            }
        }
        if (view.assignment().present()) {
            Assignment a = view.assignment().value();
            for (String node : Arrays.asList(a.node(), a.movingFrom())) {
                if (node != null && !view.agents().containsKey(node) && !policy.isAgentless(node)) {
                    memory.seenAbsent(node, now);
                }
            }
        }
    }

    private void keepAssigned(Lease l, ClusterView view) throws Exception {
        String node = view.assignment().value().node();
        if (policy.isAgentless(node)) {
            keepAgentless(l, view, node);
            return;
        }
        agentless.unassigned();
        AgentRecord agent = view.agent(node);
        if (!view.agents().containsKey(node)) {
            beginMove(
                    l,
                    view,
                    node,
                    policy.nextEligible(view, node).orElse(null),
                    "the agent of " + node + " is gone (its ZooKeeper session ended)",
                    null,
                    Metrics.FailoverReason.AGENT_LOST);
        } else if (agent != null && agent.scheduler().failures() >= policy.maxFailures()) {
            store.quarantine(l, node, agent.scheduler().failures());
            beginMove(
                    l,
                    view,
                    node,
                    policy.nextEligible(view, node).orElse(null),
                    node + " failed " + agent.scheduler().failures() + " times in a row",
                    null,
                    Metrics.FailoverReason.SCHEDULER_FAILED);
        } else if (view.assignment().value().epoch() != l.epoch()) {
            assign(l, view, node, "kept by the new leader at epoch " + l.epoch());
        } else if (agent != null && agent.scheduler().running()) {
            metrics.failoverCompleted(); // times the move that failoverBegan() started, if any
        }
    }

    /** The assigned agentless node: keep it while it is reachable and does not keep failing. */
    private void keepAgentless(Lease l, ClusterView view, String node) throws Exception {
        if (view.assignment().value().epoch() != l.epoch()) {
            assign(l, view, node, "kept by the new leader at epoch " + l.epoch());
            return;
        }
        agentless.assigned(node);
        if (memory.unreachable().containsKey(node)) {
            // Never (c) for an agentless node: nothing there would stop its scheduler, so it keeps
            // the assignment (the host-unreachable alert went out) until it answers again.
            return;
        }
        OptionalInt failures = agentless.failedTooOften(node);
        if (failures.isPresent()) {
            store.quarantine(l, node, failures.getAsInt());
            agentless.quarantined(node);
            beginMove(
                    l,
                    view,
                    node,
                    policy.nextEligible(view, node).orElse(null),
                    node + " failed " + failures.getAsInt() + " times in a row",
                    null,
                    Metrics.FailoverReason.SCHEDULER_FAILED);
        }
    }

    /**
     * The first phase of every move: nobody is assigned, and the znode records where the scheduler
     * is leaving ({@code from}, null when unknown) and where it goes, so any leader can finish it.
     */
    private void beginMove(
            Lease l,
            ClusterView view,
            String from,
            String to,
            String reason,
            String requestId,
            Metrics.FailoverReason why)
            throws Exception {
        if (from != null) {
            metrics.failoverBegan();
        }
        moveReason = why;
        String text =
                "moving" + (from == null ? "" : " from " + from) + (to == null ? "" : " to " + to) + ": " + reason;
        store.beginMove(l, view, from, to, requestId, text);
        wake();
    }

    /**
     * The second phase: assigns the target once the leave-rule holds for every node the scheduler
     * is leaving, and no live agent reports one running.
     */
    private void continueMove(Lease l, ClusterView view) throws Exception {
        Znode<Assignment> znode = view.assignment();
        Assignment m = znode.value();
        long generation = znode.stat().getMzxid();
        long now = nanoTime.getAsLong();
        boolean left = true;
        for (String node : LeaveRule.sources(znode, policy.order(view))) {
            LeaveRule.Verdict v = LeaveRule.check(node, generation, view, memory, terms, now);
            if (v instanceof LeaveRule.Left) {
                continue;
            }
            left = false;
            act(l, v, generation, now);
        }
        if (!left) {
            return;
        }
        for (Znode<AgentRecord> z : view.agents().values()) {
            if (z.present()
                    && (z.value().scheduler().running()
                            || Boolean.TRUE.equals(z.value().scheduler().starting()))) {
                return; // S1: a live agent still reports a scheduler (it is stopping a stray)
            }
        }
        String reason = m.reason();
        String to;
        if (m.movingTo() != null && policy.eligible(view, m.movingTo())) {
            if (nodeOps.busy(m.movingTo())) {
                return; // SSH work on the target is in flight: it wakes this loop when it ends
            }
            to = m.movingTo();
        } else {
            to = policy.order(view).stream()
                    .filter(n -> policy.eligible(view, n) && !nodeOps.busy(n))
                    .findFirst()
                    .orElse(null);
            if (m.movingTo() != null) {
                reason += " (" + m.movingTo() + " is no longer eligible: " + policy.whyNot(view, m.movingTo()) + ")";
            }
        }
        if (to == null) {
            noEligible(reason);
            return;
        }
        String from = m.movingFrom();
        assign(l, view, to, reason);
        Metrics.FailoverReason why = moveReason != null
                ? moveReason
                : m.requestId() != null ? Metrics.FailoverReason.OPERATOR : Metrics.FailoverReason.OTHER;
        moveReason = null;
        if (from != null && !from.equals(to)) {
            metrics.failover(why);
        }
        // "failover" when it left a node whose agent was lost, as before the leave-rule; else "scheduler-moved"
        events.record(
                why == Metrics.FailoverReason.AGENT_LOST ? "failover" : "scheduler-moved",
                (from == null ? "" : "from " + from + " ") + "to " + to + ": " + reason);
        alerter.raise(new Alert(
                AlertKind.SCHEDULER_MOVED,
                from,
                "the scheduler moved" + (from == null ? "" : " from " + from) + ": " + reason,
                "assigned it to " + to + " once the leave-rule held"));
        if (m.requestId() != null) {
            ClusterView after = ClusterView.read(client, paths);
            if (after.control().present()
                    && m.requestId().equals(after.control().value().requestId())) {
                store.answer(l, after, "moved to " + to + (to.equals(m.movingTo()) ? "" : ": " + reason));
            }
        }
    }

    /** What the leave-rule asks for, when the scheduler may not leave a node yet. */
    private void act(Lease l, LeaveRule.Verdict v, long generation, long now) {
        String node = v.node();
        ControllerMemory.HostStop stop = memory.hostStop(node);
        if (v instanceof LeaveRule.NeedHostStop) {
            if (stop == null || !stop.inFlight()) {
                hostStops.stop(l, node, generation);
            }
            return;
        }
        boolean agentGone = v instanceof LeaveRule.AwaitGrace || v instanceof LeaveRule.Blocked;
        if (agentGone
                && enforcement != null
                && stop != null
                && !stop.inFlight()
                && now - stop.atNanos() >= tuning.sweep().toNanos()) {
            hostStops.stop(l, node, generation); // a failed stop is tried again once per poll-interval
        }
        if (v instanceof LeaveRule.AwaitGrace g) {
            executor.schedule(this::step, Math.max(0, g.atNanos() - now), TimeUnit.NANOSECONDS);
        } else if (v instanceof LeaveRule.Blocked b) {
            hostStops.blocked(node, b.why());
            executor.schedule(this::step, tuning.sweep().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** An operator's {@code failover}: returns true when it took this step. */
    private boolean handleRequest(Lease l, ClusterView view) throws Exception {
        if (!view.control().present()) {
            return false;
        }
        ControlRecord c = view.control().value();
        if (c.failoverTo() == null || c.requestId() == null) {
            return false;
        }
        if (c.ttlMillis() != null
                && c.requestedAt() != null
                && clock.millis() > c.requestedAt().toEpochMilli() + c.ttlMillis()) {
            // filed longer than its time to live ago, by the filer's clock (hosts keep NTP time; the
            // command line withdraws it by its own monotonic clock as well)
            store.answer(l, view, "expired: no controller took it within " + c.ttlMillis() + "ms; not acted on");
            return true;
        }
        String current = view.assignment().present() ? view.assignment().value().node() : null;
        String target = c.failoverTo().isEmpty()
                ? (current == null ? policy.firstEligible(view) : policy.nextEligible(view, current)).orElse(null)
                : c.failoverTo();
        if (target == null) {
            store.answer(l, view, "refused: no other node is eligible");
        } else if (target.equals(current)) {
            store.answer(l, view, "refused: the scheduler is already assigned to " + target);
        } else if (!policy.eligible(view, target)) {
            store.answer(l, view, "refused: " + target + " is not eligible (" + policy.whyNot(view, target) + ")");
        } else {
            beginMove(l, view, current, target, "operator request", c.requestId(), Metrics.FailoverReason.OPERATOR);
        }
        return true;
    }

    private void assign(Lease l, ClusterView view, String node, String reason) throws Exception {
        store.assign(l, view, node, reason);
        if (noEligibleReported) {
            alerter.recovered(AlertKind.NO_ELIGIBLE_NODE, null, "the scheduler is assigned to " + node);
        }
        noEligibleReported = false;
        LOG.info("assigned the scheduler to {} at epoch {}: {}", node, l.epoch(), reason);
    }

    private void noEligible(String why) {
        if (!noEligibleReported) {
            noEligibleReported = true;
            LOG.error("no node is eligible to run the scheduler ({})", why);
            events.record("no-eligible-node", why);
            alerter.raise(new Alert(
                    AlertKind.NO_ELIGIBLE_NODE,
                    null,
                    "no node is eligible to run the scheduler: " + why,
                    "nothing runs the scheduler until a node becomes eligible (see 'asfc-agent metadata')"));
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
