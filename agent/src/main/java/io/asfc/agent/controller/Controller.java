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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
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

    /** A move in progress: the scheduler was unassigned by the write with zxid {@code zxid}. */
    private record Move(String from, String to, long zxid, String reason, String requestId, long at) {}

    /** A fencing attempt: in flight until {@code result} is set. */
    private record Fence(long at, Enforcement.Fenced result) {
        boolean inFlight() {
            return result == null;
        }
    }

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
    private final ExecutorService ssh;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService executor;
    private final List<CuratorCache> caches;

    // Only touched on the controller thread.
    private Lease lease;
    private Move pending;
    private final Map<String, Long> missingSince = new HashMap<>();
    private boolean noEligibleReported;
    private final Set<String> busy = new HashSet<>();
    private final Map<String, Fence> fences = new HashMap<>();
    private final Map<String, String> unreachable = new LinkedHashMap<>();
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
            LongSupplier nanoTime) {
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
        this.ssh = Executors.newFixedThreadPool(
                Math.max(2, Math.min(8, policy.nodes().size())), Threads.factory("asfc-ssh-%d", nodeId));
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-controller-%d", nodeId));
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
            pending = null;
            missingSince.clear();
            noEligibleReported = false;
            fences.clear();
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
            ClusterView view = ClusterView.read(client, paths).withUnreachable(unreachable);
            if (view.paused()) {
                return;
            }
            countFailures(view);
            liftQuarantines(l, view);
            if (pending != null) {
                continueMove(l, view);
            } else if (!handleRequest(l, view)) {
                keepAssigned(l, view);
            }
        } catch (LeadershipLostException e) {
            LOG.warn("{}; standing by until elected again", e.getMessage());
            lease = null; // the election will hand a new lease over if this node leads again
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("controller step failed; retrying: {}", e.toString());
        }
    }

    private void keepAssigned(Lease l, ClusterView view) throws Exception {
        Znode<Assignment> a = view.assignment();
        if (a.absent()) {
            Optional<String> first = policy.firstEligible(view);
            if (first.isPresent()) {
                assign(l, view, first.get(), "initial assignment");
            } else {
                noEligible("nothing is assigned yet");
            }
            return;
        }
        if (a.state() == Znode.State.MALFORMED || a.value().node() == null) {
            // Left by an operator or by a leader that died mid-move: nobody may run until we know
            // nobody does.
            String why = a.present() ? a.value().reason() : "the assignment was unreadable";
            beginMove(l, view, null, policy.firstEligible(view).orElse(null), why, null);
            return;
        }
        String node = a.value().node();
        if (policy.isAgentless(node)) {
            keepAgentless(l, view, node);
            return;
        }
        assignedAgentless = null;
        AgentRecord agent = view.agent(node);
        if (!view.agents().containsKey(node)) {
            takeOver(l, view, node, "the agent of " + node + " is gone (its ZooKeeper session ended)");
            return;
        }
        fences.remove(node);
        missingSince.remove(node);
        if (agent != null && agent.scheduler().failures() >= policy.maxFailures()) {
            quarantine(l, node, agent.scheduler().failures());
            beginMove(
                    l,
                    view,
                    node,
                    policy.nextEligible(view, node).orElse(null),
                    node + " failed " + agent.scheduler().failures() + " times in a row",
                    null);
        } else if (a.value().epoch() != l.epoch()) {
            assign(l, view, node, "kept by the new leader at epoch " + l.epoch());
        }
    }

    /** The assigned agentless node: keep it while it is reachable and does not keep failing. */
    private void keepAgentless(Lease l, ClusterView view, String node) throws Exception {
        if (view.assignment().value().epoch() != l.epoch()) {
            assign(l, view, node, "kept by the new leader at epoch " + l.epoch());
            return;
        }
        assignedAgentless = node;
        if (unreachable.containsKey(node)) {
            takeOver(l, view, node, node + " is unreachable over SSH (" + unreachable.get(node) + ")");
            return;
        }
        missingSince.remove(node);
        fences.remove(node);
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
                    null);
        }
    }

    /**
     * The assigned node lost its agent (or, agentless, cannot be reached). Fence it over SSH, then
     * assign the next node. If it cannot be fenced: {@code proceed} assigns the next node once
     * takeover-grace has passed since the loss was seen (the old host's self-fencing covers it),
     * {@code wait} keeps trying and assigns nobody new.
     */
    private void takeOver(Lease l, ClusterView view, String node, String why) throws Exception {
        long now = nanoTime.getAsLong();
        long since = missingSince.computeIfAbsent(node, n -> now);
        String how = "waited takeover-grace " + tuning.takeoverGrace().toMillis() + "ms";
        if (enforcement != null) {
            Fence f = fences.get(node);
            if (f == null || retryDue(f, now)) {
                startFence(node);
                return;
            }
            if (f.inFlight()) {
                return;
            }
            if (f.result().ok()) {
                moveAway(
                        l,
                        view,
                        node,
                        why + "; fenced over SSH: " + f.result().stop().describe());
                return;
            }
            if (tuning.onUnfenceable() == OnUnfenceable.WAIT) {
                executor.schedule(this::step, tuning.sweep().toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            how = "could not fence it (" + f.result().error().getMessage() + "); " + how;
        }
        long left = tuning.takeoverGrace().toNanos() - (now - since);
        if (left > 0) {
            executor.schedule(this::step, left, TimeUnit.NANOSECONDS);
            return;
        }
        moveAway(l, view, node, why + "; " + how);
    }

    private void moveAway(Lease l, ClusterView view, String node, String why) throws Exception {
        Optional<String> next = policy.nextEligible(view, node).filter(n -> !busy.contains(n));
        if (next.isEmpty()) {
            noEligible(why);
            return;
        }
        missingSince.remove(node);
        fences.remove(node);
        assign(l, view, next.get(), why);
        metrics.failover();
        events.record("failover", "from " + node + " to " + next.get() + ": " + why);
        alerter.raise(new Alert(
                AlertKind.SCHEDULER_MOVED,
                node,
                "the scheduler left " + node + ": " + why,
                "assigned it to " + next.get()));
    }

    /** A failed fencing is tried again once per poll-interval. */
    private boolean retryDue(Fence f, long now) {
        return !f.inFlight()
                && !f.result().ok()
                && now - f.at() >= tuning.sweep().toNanos();
    }

    private void startFence(String node) {
        Lease l = lease;
        fences.put(node, new Fence(nanoTime.getAsLong(), null));
        LOG.info("fencing {}: stopping its scheduler over SSH", node);
        onSsh(node, () -> enforcement.fence(node), result -> fenced(l, result));
    }

    /**
     * Runs blocking SSH work for a node on the SSH pool, then {@code then} with its result on the
     * controller thread. The node is busy, so never assigned, until then.
     */
    private <T> void onSsh(String node, Supplier<T> work, Consumer<T> then) {
        busy.add(node);
        ssh.execute(() -> {
            T result;
            try {
                result = work.get();
            } catch (RuntimeException e) {
                LOG.warn("SSH work on {} failed: {}", node, e.toString());
                executor.execute(() -> busy.remove(node));
                return;
            }
            executor.execute(() -> {
                busy.remove(node);
                then.accept(result);
            });
        });
    }

    private void fenced(Lease l, Enforcement.Fenced result) {
        String node = result.node();
        if (lease != l || !fences.containsKey(node)) {
            return;
        }
        Fence previous = fences.put(node, new Fence(nanoTime.getAsLong(), result));
        if (result.ok()) {
            events.record("fenced", node + ": " + result.stop().describe());
            alerter.recovered(AlertKind.UNFENCEABLE, node, node + " could be fenced again");
        } else if (previous == null || previous.inFlight()) {
            LOG.error("cannot fence {}: {}", node, result.error().getMessage());
            events.record("unfenceable", node + ": " + result.error().getMessage());
            alerter.raise(new Alert(
                    AlertKind.UNFENCEABLE,
                    node,
                    "cannot stop the scheduler on " + node + " over SSH: "
                            + result.error().getMessage(),
                    tuning.onUnfenceable() == OnUnfenceable.WAIT
                            ? "on-unfenceable = wait: no other node is assigned until " + node + " is fenced"
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
            boolean verify = tuning.verifyAgentsEvery() > 0 && ++sweeps % tuning.verifyAgentsEvery() == 0;
            for (String node : policy.nodes()) {
                boolean agentTrusted =
                        !policy.isAgentless(node) && view.agents().containsKey(node) && !verify;
                if (node.equals(assigned)
                        || (pending != null && node.equals(pending.from()))
                        || busy.contains(node)
                        || agentTrusted) {
                    continue;
                }
                onSsh(node, () -> enforcement.sweep(l, node), result -> swept(l, result));
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("sweep failed; retrying at the next poll-interval: {}", e.toString());
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
        if (unreachable.putIfAbsent(node, error.getMessage()) == null) {
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
        if (unreachable.remove(node) != null) {
            LOG.info("{} is reachable over SSH again", node);
            events.record("host-reachable", node + " answers over SSH again");
            alerter.recovered(AlertKind.HOST_UNREACHABLE, node, node + " answers over SSH again");
        }
    }

    /** Every {@code check-interval}: look at the assigned agentless node's scheduler. */
    private void checkAgentless() {
        Lease l = lease;
        String node = assignedAgentless;
        if (l == null || node == null || busy.contains(node) || state.get() != Lifecycle.STARTED) {
            return;
        }
        onSsh(node, () -> enforcement.look(node), looked -> lookedAtAgentless(l, node, looked));
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
        onSsh(
                node,
                () -> {
                    try {
                        return new RemoteStart(enforcement.startIfAssigned(l, node), null);
                    } catch (Exception e) {
                        return new RemoteStart(-1, e.getMessage());
                    }
                },
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
            beginMove(l, view, current, target, "operator request", c.requestId());
        }
        return true;
    }

    private void beginMove(Lease l, ClusterView view, String from, String to, String reason, String requestId)
            throws Exception {
        if (to == null) {
            noEligible(reason);
        }
        String text =
                "moving" + (from == null ? "" : " from " + from) + (to == null ? "" : " to " + to) + ": " + reason;
        List<CuratorTransactionResult> results =
                writeAssignment(l, view, new Assignment(null, l.epoch(), clock.instant(), text));
        long zxid = results.get(results.size() - 1).getResultStat().getMzxid();
        pending = new Move(from, to, zxid, reason, requestId, nanoTime.getAsLong());
        events.record("scheduler-moving", text);
        if (from != null && policy.isAgentless(from) && enforcement != null) {
            fences.remove(from);
            startFence(from);
        }
        wake();
    }

    private void continueMove(Lease l, ClusterView view) throws Exception {
        Move m = pending;
        if (m.from() != null && policy.isAgentless(m.from()) && !agentlessStopped(m)) {
            return;
        }
        for (Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            Znode<AgentRecord> z = e.getValue();
            boolean reportedSince = z.stat() != null && z.stat().getMzxid() > m.zxid();
            if (!z.present() || z.value().scheduler().running() || (e.getKey().equals(m.from()) && !reportedSince)) {
                return; // S1: wait until nobody runs it, by reports newer than the unassignment
            }
        }
        String to;
        String reason = m.reason();
        if (m.to() != null && policy.eligible(view, m.to())) {
            if (busy.contains(m.to())) {
                // SSH work on the target is in flight (a sweep, a look): wait for it, which wakes this loop, rather
                // than assign another node than the one chosen (or named by the operator).
                return;
            }
            to = m.to();
        } else {
            to = policy.order(view).stream()
                    .filter(n -> policy.eligible(view, n) && !busy.contains(n))
                    .findFirst()
                    .orElse(null);
            if (m.to() != null) {
                reason += " (" + m.to() + " is no longer eligible: " + policy.whyNot(view, m.to()) + ")";
            }
        }
        if (to == null) {
            noEligible(reason);
            return;
        }
        assign(l, view, to, reason);
        if (m.from() != null && !m.from().equals(to)) {
            metrics.failover();
        }
        events.record(
                "scheduler-moved", (m.from() == null ? "" : "from " + m.from() + " ") + "to " + to + ": " + reason);
        alerter.raise(new Alert(
                AlertKind.SCHEDULER_MOVED,
                m.from(),
                "the scheduler moved" + (m.from() == null ? "" : " from " + m.from()) + ": " + reason,
                "assigned it to " + to + " once nobody ran it"));
        pending = null;
        if (m.requestId() != null) {
            answer(l, ClusterView.read(client, paths), "moved to " + to + (to.equals(m.to()) ? "" : ": " + reason));
        }
    }

    /** A move away from an agentless node waits for its confirmed SSH stop (or on-unfenceable). */
    private boolean agentlessStopped(Move m) {
        Fence f = fences.get(m.from());
        if (f == null) {
            startFence(m.from());
            return false;
        }
        if (f.inFlight()) {
            return false;
        }
        if (f.result().ok()) {
            return true;
        }
        long now = nanoTime.getAsLong();
        if (retryDue(f, now)) {
            startFence(m.from());
        }
        return tuning.onUnfenceable() == OnUnfenceable.PROCEED
                && now - m.at() >= tuning.takeoverGrace().toNanos();
    }

    private void assign(Lease l, ClusterView view, String node, String reason) throws Exception {
        writeAssignment(l, view, new Assignment(node, l.epoch(), clock.instant(), reason));
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
        ssh.shutdownNow();
    }
}
