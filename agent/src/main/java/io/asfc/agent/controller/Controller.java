package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.LeadershipLostException;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 */
public final class Controller implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    /** A move in progress: the scheduler was unassigned by the write with zxid {@code zxid}. */
    private record Move(String from, String to, long zxid, String reason, String requestId) {}

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final Policy policy;
    private final Duration takeoverGrace;
    private final Duration pollInterval;
    private final FencedWriter writer;
    private final EventLog events;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService executor;
    private final List<CuratorCache> caches;

    // Only touched on the controller thread.
    private Lease lease;
    private Move pending;
    private final Map<String, Long> missingSince = new HashMap<>();
    private boolean noEligibleReported;

    public Controller(
            CuratorFramework client,
            ZkPaths paths,
            String nodeId,
            Policy policy,
            Duration takeoverGrace,
            Duration pollInterval,
            FencedWriter writer,
            EventLog events,
            Clock clock,
            LongSupplier nanoTime) {
        this.client = client;
        this.paths = paths;
        this.policy = policy;
        this.takeoverGrace = takeoverGrace;
        this.pollInterval = pollInterval;
        this.writer = writer;
        this.events = events;
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
        long ms = pollInterval.toMillis();
        executor.scheduleWithFixedDelay(this::step, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Called by the election on its thread: a lease while ACTIVE, empty while STANDBY. */
    public void onRole(Optional<Lease> newLease) {
        executor.execute(() -> {
            lease = newLease.orElse(null);
            pending = null;
            missingSince.clear();
            noEligibleReported = false;
            if (lease != null) {
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
        Lease l = lease;
        if (l == null || state.get() != Lifecycle.STARTED) {
            return;
        }
        try {
            ClusterView view = ClusterView.read(client, paths);
            if (view.paused()) {
                return;
            }
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
        AgentRecord agent = view.agent(node);
        if (!view.agents().containsKey(node)) {
            long now = nanoTime.getAsLong();
            long since = missingSince.computeIfAbsent(node, n -> now);
            long left = takeoverGrace.toNanos() - (now - since);
            if (left > 0) {
                executor.schedule(this::step, left, TimeUnit.NANOSECONDS);
                return;
            }
            Optional<String> next = policy.nextEligible(view, node);
            if (next.isPresent()) {
                missingSince.remove(node);
                assign(
                        l,
                        view,
                        next.get(),
                        node + " lost its ZooKeeper session; waited takeover-grace " + takeoverGrace.toMillis() + "ms");
                events.record("failover", "from " + node + " to " + next.get() + ": agent of " + node + " is gone");
            } else {
                noEligible("the agent of " + node + " is gone");
            }
            return;
        }
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
        pending = new Move(from, to, zxid, reason, requestId);
        events.record("scheduler-moving", text);
        wake();
    }

    private void continueMove(Lease l, ClusterView view) throws Exception {
        Move m = pending;
        for (Map.Entry<String, Znode<AgentRecord>> e : view.agents().entrySet()) {
            Znode<AgentRecord> z = e.getValue();
            boolean reportedSince = z.stat() != null && z.stat().getMzxid() > m.zxid();
            if (!z.present() || z.value().scheduler().running() || (e.getKey().equals(m.from()) && !reportedSince)) {
                return; // S1: wait until nobody runs it, by reports newer than the unassignment
            }
        }
        String to = m.to() != null && policy.eligible(view, m.to())
                ? m.to()
                : policy.firstEligible(view).orElse(null);
        if (to == null) {
            noEligible(m.reason());
            return;
        }
        assign(l, view, to, m.reason());
        events.record(
                "scheduler-moved", (m.from() == null ? "" : "from " + m.from() + " ") + "to " + to + ": " + m.reason());
        pending = null;
        if (m.requestId() != null) {
            answer(l, ClusterView.read(client, paths), "moved to " + to);
        }
    }

    private void assign(Lease l, ClusterView view, String node, String reason) throws Exception {
        writeAssignment(l, view, new Assignment(node, l.epoch(), clock.instant(), reason));
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
        for (String node : view.quarantined().keySet()) {
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
    }
}
