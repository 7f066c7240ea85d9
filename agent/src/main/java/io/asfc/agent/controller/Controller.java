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
import io.asfc.agent.ssh.RemoteScheduler;
import io.asfc.agent.ssh.SshException;
import io.asfc.agent.ssh.SshTarget;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
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
 *   <li>when the assigned agent is gone (its session expired), waits {@code takeover-grace} and
 *       assigns the next eligible node.
 * </ul>
 *
 * A move between live agents has two phases: first nobody is assigned; only when the old node
 * reports, after that write, that its scheduler stopped, is the new node assigned. So a move never
 * overlaps.
 *
 * <p>With SSH enforcement ({@link Enforcement}, off when {@code ssh.enabled = false}) it also
 *
 * <ul>
 *   <li>sweeps every node but the assigned one each {@code poll-interval} and stops stray
 *       schedulers (a node with a live agent is trusted, and checked over SSH every
 *       {@code verify-agents-every} sweeps);
 *   <li>fences a node whose agent is gone (stops its scheduler over SSH) before assigning another;
 *       if that is impossible, {@code on-unfenceable} decides: proceed after takeover-grace, or wait;
 *   <li>runs the scheduler of an agentless node: checks it every {@code check-interval}, restarts
 *       it, and moves it after {@code max-restarts-before-failover} failures.
 * </ul>
 *
 * SSH calls run on their own pool and report back to the controller thread, so a hung host never
 * blocks a decision. A node with an SSH call in flight is never assigned until that call ends.
 */
public final class Controller implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    /** What a start over SSH returned: the pid it started (-1: not started), or why it failed. */
    private record RemoteStart(long pid, String error) {}

    /** What the controller knows of an agentless node's scheduler. */
    private static final class RemoteRun {
        boolean running;
        long runningSince;
        /** When the last start over SSH returned, and the pid it started (-1: none). */
        long startedAt = Long.MIN_VALUE;

        long startedPid = -1;
        int failures;
    }

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final Policy policy;
    private final Tuning tuning;
    private final String nodeId;
    private final FencedWriter writer;
    private final EventLog events;
    private final Alerter alerter;
    private final Metrics metrics;
    private final Enforcement enforcement;
    private final NodeOps nodeOps;
    private final LeaveRule.Terms terms;
    private final Clock clock;
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
    /** Nodes the scheduler cannot leave, alerted once per episode; and nodes whose host stop failed. */
    private final Set<String> blockedReported = new HashSet<>();

    private final Set<String> unfenceableLogged = new HashSet<>();
    private final Map<String, RemoteRun> remoteRuns = new HashMap<>();
    private final Map<String, Integer> lastFailures = new HashMap<>();
    private String assignedAgentless;
    private long sweeps;
    private int streak;
    private boolean streakAlerted;

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
        this.writer = writer;
        this.events = events;
        this.alerter = alerter;
        this.metrics = metrics;
        this.enforcement = remote.map(r -> new Enforcement(client, paths, writer, r, targets, metrics))
                .orElse(null);
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.leadershipLost = leadershipLost;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-controller-%d", nodeId));
        this.nodeOps = new NodeOps(nodeId, executor);
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
            moveReason = null;
            noEligibleReported = false;
            blockedReported.clear();
            unfenceableLogged.clear();
            remoteRuns.clear();
            assignedAgentless = null;
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
            countFailures(view);
            liftQuarantines(l, view);
            Znode<Assignment> a = view.assignment();
            if (!a.present()) {
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

    /** (c) counts takeover-grace from when this leader first saw a node's agent absent. */
    private void noteAbsences(ClusterView view) {
        long now = nanoTime.getAsLong();
        for (String node : LeaveRule.sources(new Znode<>(Znode.State.ABSENT, null, null), view, policy.nodes())) {
            if (view.agents().containsKey(node)) {
                memory.seenPresent(node);
            } else if (!policy.isAgentless(node)) {
                memory.seenAbsent(node, now);
            }
        }
        if (view.assignment().present()) {
            Assignment a = view.assignment().value();
            for (String node : java.util.Arrays.asList(a.node(), a.movingFrom())) {
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
        assignedAgentless = null;
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
            quarantine(l, node, agent.scheduler().failures());
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
        assignedAgentless = node;
        if (memory.unreachable().containsKey(node)) {
            // Never (c) for an agentless node: nothing there would stop its scheduler, so it keeps
            // the assignment (the host-unreachable alert went out) until it answers again.
            return;
        }
        RemoteRun run = remoteRuns.get(node);
        if (run != null && run.failures >= policy.maxFailures()) {
            quarantine(l, node, run.failures);
            remoteRuns.remove(node);
            assignedAgentless = null;
            beginMove(
                    l,
                    view,
                    node,
                    policy.nextEligible(view, node).orElse(null),
                    node + " failed " + run.failures + " times in a row",
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
        writeAssignment(l, view, Assignment.moving(from, to, requestId, l.epoch(), clock.instant(), text));
        events.record("scheduler-moving", text);
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
        for (String node : LeaveRule.sources(znode, view, policy.nodes())) {
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
                answer(l, after, "moved to " + to + (to.equals(m.movingTo()) ? "" : ": " + reason));
            }
        }
    }

    /** What the leave-rule asks for, when the scheduler may not leave a node yet. */
    private void act(Lease l, LeaveRule.Verdict v, long generation, long now) {
        String node = v.node();
        ControllerMemory.HostStop stop = memory.hostStop(node);
        if (v instanceof LeaveRule.NeedHostStop) {
            if (stop == null || !stop.inFlight()) {
                startHostStop(l, node, generation);
            }
            return;
        }
        boolean agentGone = v instanceof LeaveRule.AwaitGrace || v instanceof LeaveRule.Blocked;
        if (agentGone
                && enforcement != null
                && stop != null
                && !stop.inFlight()
                && now - stop.atNanos() >= tuning.sweep().toNanos()) {
            startHostStop(l, node, generation); // a failed stop is tried again once per poll-interval
        }
        if (v instanceof LeaveRule.AwaitGrace g) {
            executor.schedule(this::step, Math.max(0, g.atNanos() - now), TimeUnit.NANOSECONDS);
        } else if (v instanceof LeaveRule.Blocked b) {
            if (blockedReported.add(node)) { // the failed host stop raised the alert
                LOG.error("the scheduler cannot leave {}: {}", node, b.why());
                events.record("move-blocked", b.why());
            }
            executor.schedule(this::step, tuning.sweep().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** HostStop: stops the node's scheduler over SSH, under this lease, on the node's serial queue. */
    private void startHostStop(Lease l, String node, long generation) {
        memory.hostStopQueued(node, generation, nanoTime.getAsLong());
        LOG.info("stopping the scheduler on {} over SSH (host stop)", node);
        nodeOps.submit(
                node,
                "host stop",
                () -> enforcement.hostStop(l, node),
                e -> new Enforcement.HostStopped(node, null, e),
                result -> hostStopped(l, result));
    }

    private void hostStopped(Lease l, Enforcement.HostStopped result) {
        String node = result.node();
        if (lease != l) {
            return; // a deposed leader's stop proves nothing to its successor
        }
        memory.hostStopDone(node, result.ok(), result.describe(), nanoTime.getAsLong());
        if (result.ok()) {
            events.record("host-stopped", node + ": " + result.describe());
            if (unfenceableLogged.remove(node)) {
                alerter.recovered(AlertKind.UNFENCEABLE, node, node + " could be stopped over SSH again");
            }
            blockedReported.remove(node);
        } else if (unfenceableLogged.add(node)) { // once per episode
            LOG.error("cannot stop the scheduler on {} over SSH: {}", node, result.describe());
            events.record("unfenceable", node + ": " + result.describe());
            alerter.raise(new Alert(
                    AlertKind.UNFENCEABLE,
                    node,
                    "cannot stop the scheduler on " + node + " over SSH: " + result.describe(),
                    policy.isAgentless(node)
                            ? node + " is agentless: it keeps the assignment until it can be stopped"
                            : tuning.onUnfenceable() == OnUnfenceable.WAIT
                                    ? "on-unfenceable = wait: no other node is assigned until " + node + " is stopped"
                                    : "on-unfenceable = proceed: another node is assigned after takeover-grace "
                                            + tuning.takeoverGrace().toMillis() + "ms, relying on " + node
                                            + "'s self-fencing"));
        }
        wake();
    }

    /**
     * Every {@code poll-interval}: look for schedulers on every listed node but the assigned one
     * (and but the node a move is taking it from, whose agent is stopping it).
     */
    private void sweep() {
        Lease l = lease;
        if (l == null || state.get() != Lifecycle.STARTED) {
            return;
        }
        try {
            ClusterView view = ClusterView.read(client, paths);
            String assigned =
                    view.assignment().present() ? view.assignment().value().node() : null;
            String leaving =
                    view.assignment().present() ? view.assignment().value().movingFrom() : null;
            boolean verify = tuning.verifyAgentsEvery() > 0 && ++sweeps % tuning.verifyAgentsEvery() == 0;
            // With nodes = [], every live agent's host is swept.
            for (String node :
                    policy.nodes().isEmpty() ? List.copyOf(view.agents().keySet()) : policy.nodes()) {
                boolean agentTrusted =
                        !policy.isAgentless(node) && view.agents().containsKey(node) && !verify;
                if (node.equals(assigned)
                        || node.equals(leaving) // the leave-rule stops it
                        || nodeOps.busy(node)
                        || agentTrusted) {
                    continue;
                }
                nodeOps.submit(
                        node,
                        "sweep",
                        () -> enforcement.sweep(l, node),
                        e -> new Enforcement.Skipped(node, "the sweep failed: " + e),
                        result -> swept(l, result));
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("sweep failed; retrying at the next poll-interval", e);
        }
    }

    private void swept(Lease l, Enforcement.Swept result) {
        String node = result.node();
        if (result instanceof Enforcement.Unreachable u) {
            unreachable(node, u.error());
        } else if (result instanceof Enforcement.Skipped s) {
            reachable(node);
            LOG.info("left {} alone: {}", node, s.why());
        } else if (result instanceof Enforcement.StrayStopped s) {
            reachable(node);
            String text = "stray scheduler on " + node + " (" + s.seen() + "): "
                    + s.stop().describe();
            LOG.warn(text);
            metrics.strayStopped();
            events.record("stray-stopped", text);
            alerter.raise(new Alert(
                    AlertKind.STRAY_STOPPED,
                    node,
                    "a scheduler was running on " + node + ", which is not assigned: " + s.seen(),
                    "stopped it over SSH (" + s.stop().describe() + ")"));
        } else {
            reachable(node);
        }
        if (lease == l) {
            wake();
        }
    }

    private void unreachable(String node, SshException error) {
        if (memory.unreachable().putIfAbsent(node, error.getMessage()) == null) {
            LOG.warn("{} is unreachable over SSH: {}", node, error.getMessage());
            events.record("host-unreachable", node + ": " + error.getMessage());
            alerter.raise(new Alert(
                    AlertKind.HOST_UNREACHABLE,
                    node,
                    node + " cannot be checked over SSH: " + error.getMessage(),
                    "it cannot be checked for a stray scheduler" + (policy.isAgentless(node) ? " nor run one" : "")
                            + " until it is reachable again; one alert per outage"));
        }
    }

    private void reachable(String node) {
        if (memory.unreachable().remove(node) != null) {
            LOG.info("{} is reachable over SSH again", node);
            events.record("host-reachable", node + " answers over SSH again");
            alerter.recovered(AlertKind.HOST_UNREACHABLE, node, node + " answers over SSH again");
        }
    }

    /** Every {@code check-interval}: look at the assigned agentless node's scheduler. */
    private void checkAgentless() {
        Lease l = lease;
        String node = assignedAgentless;
        if (l == null || node == null || nodeOps.busy(node) || state.get() != Lifecycle.STARTED) {
            return;
        }
        nodeOps.submit(
                node,
                "look",
                () -> enforcement.look(node),
                e -> new Enforcement.Looked(
                        null, new SshException(SshException.Reason.COMMAND_FAILED, e.toString(), e)),
                looked -> lookedAtAgentless(l, node, looked));
    }

    private void lookedAtAgentless(Lease l, String node, Enforcement.Looked looked) {
        if (lease != l || !node.equals(assignedAgentless)) {
            return;
        }
        if (looked.error() != null) {
            unreachable(node, looked.error());
            wake();
            return;
        }
        reachable(node);
        RemoteScheduler.Look look = looked.look();
        RemoteRun run = remoteRuns.computeIfAbsent(node, n -> new RemoteRun());
        long now = nanoTime.getAsLong();
        if (look.running()) {
            if (!run.running) {
                run.running = true;
                run.runningSince = now;
                metrics.failoverCompleted();
                LOG.info("the scheduler runs on agentless {}: {}", node, look.describe());
            }
            if (run.failures > 0
                    && now - run.runningSince >= tuning.startTimeout().toNanos()) {
                run.failures = 0;
                endStreak(node);
            }
            return;
        }
        long settle = Math.max(
                tuning.restartSleep().toNanos(), tuning.agentlessCheck().toNanos());
        boolean started = run.startedAt != Long.MIN_VALUE;
        if (started && !run.running && now - run.startedAt < settle) {
            return; // just started: give it a moment to appear
        }
        if (started
                && !run.running
                && run.startedPid > 0
                && look.alive(run.startedPid)
                && now - run.startedAt < tuning.startTimeout().toNanos()) {
            return; // the process it started lives but does not match the pattern yet (still starting)
        }
        if (run.running || started) {
            run.failures++;
            streak++;
            events.record(
                    "scheduler-died",
                    node + ": no scheduler process over SSH (" + run.failures + " failure(s) in a row)");
            alertStreak(node);
        }
        run.running = false;
        if (run.failures >= policy.maxFailures()) {
            wake(); // keepAgentless quarantines and moves
            return;
        }
        run.startedAt = now;
        run.startedPid = -1;
        nodeOps.submit(
                node,
                "agentless start",
                () -> {
                    try {
                        return new RemoteStart(enforcement.startIfAssigned(l, node), null);
                    } catch (Exception e) {
                        Threads.checkInterrupted(e);
                        return new RemoteStart(-1, e.getMessage());
                    }
                },
                e -> new RemoteStart(-1, e.toString()),
                start -> {
                    // settle from when the start returned: an SSH round trip on a loaded host can
                    // take longer than check-interval
                    run.startedAt = nanoTime.getAsLong();
                    run.startedPid = start.pid();
                    if (start.error() != null) {
                        LOG.info("agentless {}: could not start the scheduler over SSH: {}", node, start.error());
                        events.record("scheduler-start-failed", node + ": could not start over SSH: " + start.error());
                    } else if (start.pid() >= 0) {
                        LOG.info("agentless {}: scheduler started over SSH (pid {})", node, start.pid());
                        events.record("scheduler-started", node + ": started over SSH (pid " + start.pid() + ")");
                    }
                });
    }

    /** Counts failed starts across the cluster since the scheduler last ran cleanly; alerts past the threshold. */
    private void countFailures(ClusterView view) {
        for (Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            if (!e.getValue().present()) {
                continue;
            }
            int failures = e.getValue().value().scheduler().failures();
            int before = lastFailures.getOrDefault(e.getKey(), 0);
            if (failures > before) {
                streak += failures - before;
                alertStreak(e.getKey());
            }
            lastFailures.put(e.getKey(), failures);
        }
        String assigned =
                view.assignment().present() ? view.assignment().value().node() : null;
        AgentRecord agent = assigned == null ? null : view.agent(assigned);
        if (agent != null && agent.scheduler().running() && agent.scheduler().failures() == 0) {
            endStreak(assigned);
        }
    }

    private void alertStreak(String node) {
        if (streak >= tuning.alertAfter() && !streakAlerted) {
            streakAlerted = true;
            alerter.raise(new Alert(
                    AlertKind.START_FAILURES,
                    null,
                    "the scheduler failed to start or died " + streak + " times in a row (last on " + node + ")",
                    "restarting it, and moving it to the next node after " + policy.maxFailures()
                            + " failures on one node"));
        }
    }

    private void endStreak(String node) {
        if (streak > 0) {
            if (streakAlerted) {
                alerter.recovered(AlertKind.START_FAILURES, null, "the scheduler runs again, on " + node);
            }
            streak = 0;
            streakAlerted = false;
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
        String current = view.assignment().present() ? view.assignment().value().node() : null;
        String target = c.failoverTo().isEmpty()
                ? (current == null ? policy.firstEligible(view) : policy.nextEligible(view, current)).orElse(null)
                : c.failoverTo();
        if (target == null) {
            answer(l, view, "refused: no other node is eligible");
        } else if (target.equals(current)) {
            answer(l, view, "refused: the scheduler is already assigned to " + target);
        } else if (!policy.eligible(view, target)) {
            answer(l, view, "refused: " + target + " is not eligible (" + policy.whyNot(view, target) + ")");
        } else {
            beginMove(l, view, current, target, "operator request", c.requestId(), Metrics.FailoverReason.OPERATOR);
        }
        return true;
    }

    private void assign(Lease l, ClusterView view, String node, String reason) throws Exception {
        writeAssignment(l, view, Assignment.to(node, l.epoch(), clock.instant(), reason));
        if (noEligibleReported) {
            alerter.recovered(AlertKind.NO_ELIGIBLE_NODE, null, "the scheduler is assigned to " + node);
        }
        noEligibleReported = false;
        LOG.info("assigned the scheduler to {} at epoch {}: {}", node, l.epoch(), reason);
    }

    private List<CuratorTransactionResult> writeAssignment(Lease l, ClusterView view, Assignment a) throws Exception {
        Znode<Assignment> current = view.assignment();
        byte[] data = Json.encode(a);
        CuratorOp op = current.absent()
                ? writer.ops().create().forPath(paths.scheduler(), data)
                : writer.ops()
                        .setData()
                        .withVersion(current.stat().getVersion())
                        .forPath(paths.scheduler(), data);
        return writer.commit(l, List.of(op));
    }

    private void quarantine(Lease l, String node, int failures) throws Exception {
        NodeRecord record =
                new NodeRecord(node, true, failures, "failed " + failures + " times in a row", clock.instant());
        ensureParent(paths.nodes());
        boolean exists = client.checkExists().forPath(paths.node(node)) != null;
        byte[] data = Json.encode(record);
        writer.commit(
                l,
                List.of(
                        exists
                                ? writer.ops().setData().forPath(paths.node(node), data)
                                : writer.ops().create().forPath(paths.node(node), data)));
        events.record("node-quarantined", node + ": " + record.reason());
    }

    private void liftQuarantines(Lease l, ClusterView view) throws Exception {
        List<CuratorOp> lifts = new ArrayList<>();
        boolean noneEligible = policy.firstEligible(view).isEmpty();
        for (String node : view.quarantined().keySet()) {
            if (policy.isAgentless(node) && noneEligible) {
                // No agent can report a clean start for it: it gets another chance when nothing else can run.
                lifts.add(writer.ops().delete().forPath(paths.node(node)));
                continue;
            }
            AgentRecord agent = view.agent(node);
            if (agent != null && agent.scheduler().failures() == 0) {
                lifts.add(writer.ops().delete().forPath(paths.node(node)));
            }
        }
        if (!lifts.isEmpty()) {
            writer.commit(l, lifts);
            events.record("node-eligible-again", lifts.size() + " node(s) reported a clean start");
        }
    }

    private void answer(Lease l, ClusterView view, String text) throws Exception {
        ControlRecord answered = view.control().value().withResult(text, clock.instant());
        writer.commit(
                l,
                List.of(writer.ops()
                        .setData()
                        .withVersion(view.control().stat().getVersion())
                        .forPath(paths.control(), Json.encode(answered))));
        events.record("failover-request", text);
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

    private void ensureParent(String path) throws Exception {
        client.createContainers(path);
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
