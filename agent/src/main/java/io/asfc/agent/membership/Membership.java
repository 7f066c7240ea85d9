package io.asfc.agent.membership;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.zk.ZkSession;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.Heartbeat;
import io.asfc.common.zk.AgentRecord.Role;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this agent's ephemeral {@code agents/<node>} znode: created at start (refusing a node id
 * that another live agent uses), rewritten at once with {@code seq + 1} when the role or the local
 * scheduler's state changes, and re-created after a new session. When nothing changed it is
 * rewritten only every {@code heartbeat-refresh}: liveness is the ephemeral node and its session,
 * not the write, so an idle agent hardly writes. Every heartbeat interval it checks, without a
 * ZooKeeper call, whether a write is due: a change whose write failed, a new session, or the
 * refresh. While ACTIVE it also watches the other agents' {@code seq}.
 */
public final class Membership implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    static final int STUCK_AFTER_INTERVALS = 3;

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final Duration interval;
    private final long refreshNanos;
    private final EventLog events;
    private final Metrics metrics;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final StuckDetector stuck;
    private final ScheduledExecutorService executor;
    private final String path;

    // Only written on the heartbeat thread (and in start(), before it runs).
    private volatile AgentRecord record;
    private SchedulerState scheduler = SchedulerState.STOPPED;
    private int version = -1;
    /** The session the record was last written under, and when: a tick writes when either is outdated. */
    private long writtenSession;

    private long writtenNanos;
    /** A change (or a refresh) whose write did not succeed: the next tick writes. */
    private boolean pending;

    /**
     * @param initial this agent's identity; its role, heartbeat and scheduler state are replaced
     *     as they change
     * @param interval how often to check whether a write is due
     * @param refresh how often to rewrite the record when nothing changed (at least {@code interval})
     */
    public Membership(
            CuratorFramework client,
            ZkPaths paths,
            AgentRecord initial,
            Duration interval,
            Duration refresh,
            EventLog events,
            Metrics metrics,
            Clock clock,
            LongSupplier nanoTime) {
        this.client = client;
        this.paths = paths;
        this.record = initial;
        this.interval = interval;
        this.refreshNanos = refresh.toNanos();
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.nanoTime = nanoTime;
        // a live agent's seq advances at least every refresh, on one of its ticks
        this.stuck = new StuckDetector(refresh.plus(interval.multipliedBy(STUCK_AFTER_INTERVALS)));
        this.path = paths.agent(initial.node());
        this.executor =
                Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-heartbeat-%d", initial.node()));
    }

    /**
     * Registers the agent node.
     *
     * @throws DuplicateNodeIdException if the node id is taken
     * @throws ZkException when ZooKeeper cannot answer
     */
    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("membership can be started only once");
        }
        ZkException.call(path, () -> {
            register();
            return null;
        });
        written();
        long ms = interval.toMillis();
        executor.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** This agent's record as last written (or being written) to {@code agents/<node>}. */
    public AgentRecord published() {
        return record;
    }

    /** Publishes a role change at once. */
    public void setRole(Role role) {
        executor.execute(() -> {
            if (role == Role.ACTIVE) {
                stuck.reset();
            }
            record = record.withRole(role);
            beat();
        });
    }

    /** Publishes the local scheduler's state at once when it changed (and at every refresh). */
    public void reportScheduler(SchedulerState state) {
        metrics.schedulerReported(state.running(), state.healthy(), state.failures());
        executor.execute(() -> {
            if (!state.equals(scheduler)) {
                scheduler = state;
                beat();
            }
        });
    }

    private void register() throws Exception {
        record = next();
        byte[] data = Json.encode(record);
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.EPHEMERAL)
                    .forPath(path, data);
            version = 0;
            return;
        } catch (KeeperException.NodeExistsException e) {
            // someone holds agents/<node>: find out who
        }
        Stat stat = new Stat();
        byte[] existing = client.getData().storingStatIn(stat).forPath(path);
        if (ZkSession.owns(client, stat)) {
            version = client.setData()
                    .withVersion(stat.getVersion())
                    .forPath(path, data)
                    .getVersion();
            return;
        }
        Optional<AgentRecord> other = Json.decode(path, existing, AgentRecord.class);
        if (other.isPresent() && isOurDeadPredecessor(other.get())) {
            LOG.info(
                    "{} was left by a previous agent on this host (pid {}, no longer running); replacing it",
                    path,
                    other.get().pid());
            client.delete().withVersion(stat.getVersion()).forPath(path);
            client.create().withMode(CreateMode.EPHEMERAL).forPath(path, data);
            version = 0;
            return;
        }
        throw new DuplicateNodeIdException("node id '" + record.node() + "' is already used by a live agent ("
                + other.map(o -> "host " + o.host() + ", pid " + o.pid()).orElse("unreadable " + path)
                + ", session 0x" + Long.toHexString(stat.getEphemeralOwner())
                + "); every agent needs its own asfc.node.id");
    }

    private boolean isOurDeadPredecessor(AgentRecord other) {
        return other.host().equals(record.host())
                && other.pid() != record.pid()
                && ProcessTable.read(other.pid()).filter(p -> !p.isZombie()).isEmpty(); // a zombie is dead
    }

    /**
     * The periodic check: writes when a write is due, else only confirms (without a ZooKeeper call)
     * that the record written under the current, connected session still stands.
     */
    private void tick() {
        if (state.get() != Lifecycle.STARTED) {
            return;
        }
        metrics.progress(Loop.HEARTBEAT);
        boolean connected = client.getZookeeperClient().isConnected();
        if (pending || !connected || sessionChanged() || nanoTime.getAsLong() - writtenNanos >= refreshNanos) {
            beat();
            return;
        }
        metrics.heartbeatWritten(); // an ephemeral node of the live session it was written under
        if (record.role() == Role.ACTIVE) {
            watchOthersQuietly();
        }
    }

    private boolean sessionChanged() {
        try {
            return ZkSession.id(client) != writtenSession;
        } catch (ZkException e) {
            return true; // no session to compare: write, and let the write's outcome tell
        }
    }

    private void written() {
        pending = false;
        writtenNanos = nanoTime.getAsLong();
        try {
            writtenSession = ZkSession.id(client);
        } catch (ZkException e) {
            writtenSession = 0; // the next tick writes again
        }
        metrics.heartbeatWritten();
    }

    /** Writes the record now with {@code seq + 1}; on failure the next tick writes again. */
    private void beat() {
        if (state.get() != Lifecycle.STARTED) {
            return;
        }
        metrics.progress(Loop.HEARTBEAT);
        pending = true;
        try {
            record = next();
            byte[] data = Json.encode(record);
            try {
                Stat written = client.setData().withVersion(version).forPath(path, data);
                version = written.getVersion();
                if (!ZkSession.owns(client, written)) {
                    takeOver(written, data);
                }
                written();
            } catch (KeeperException.NoNodeException e) {
                client.create().withMode(CreateMode.EPHEMERAL).forPath(path, data);
                version = 0;
                written();
                LOG.debug("re-created {} after a new ZooKeeper session", path); // the agent-rejoined event is logged
                events.record("agent-rejoined", record.node() + " re-registered after a new ZooKeeper session");
            } catch (KeeperException.BadVersionException e) {
                reclaimOrComplain();
            }
            if (record.role() == Role.ACTIVE) {
                watchOthers();
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            if (ZkException.isConnectionLoss(e)) {
                LOG.debug("heartbeat of {} failed without ZooKeeper: {}", path, e.toString()); // ConnectionLog says it
            } else {
                LOG.warn("heartbeat of {} failed: {}", path, e.toString());
            }
        }
    }

    /**
     * Our node still belongs to this agent's previous session: Curator gave up on that session and
     * opened a new one while ZooKeeper had no quorum, and the ensemble keeps the old one alive until
     * it times out there. The node would then vanish, and the ACTIVE controller would take this
     * agent for gone. Move it to the current session at once, in one transaction, so that it never
     * disappears.
     */
    private void takeOver(Stat old, byte[] data) throws Exception {
        client.transaction()
                .forOperations(
                        client.transactionOp()
                                .delete()
                                .withVersion(old.getVersion())
                                .forPath(path),
                        client.transactionOp()
                                .create()
                                .withMode(CreateMode.EPHEMERAL)
                                .forPath(path, data));
        version = 0;
        LOG.info(
                "moved {} from the previous ZooKeeper session 0x{} to the current one",
                path,
                Long.toHexString(old.getEphemeralOwner()));
        events.record("agent-rejoined", record.node() + " re-registered under its new ZooKeeper session");
    }

    private void reclaimOrComplain() throws Exception {
        Stat stat = client.checkExists().forPath(path);
        if (ZkSession.owns(client, stat)) {
            version = stat.getVersion(); // ours, written by a retried call; next beat succeeds
        } else {
            LOG.error(
                    "{} is held by another ZooKeeper session: another agent uses node id '{}'."
                            + " Give every agent its own asfc.node.id",
                    path,
                    record.node());
        }
    }

    private void watchOthersQuietly() {
        try {
            watchOthers();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.debug("could not read the other agents' heartbeats: {}", e.toString()); // the next tick reads again
        }
    }

    private void watchOthers() throws Exception {
        Map<String, Long> seqs = new LinkedHashMap<>();
        for (String node : client.getChildren().forPath(paths.agents())) {
            try {
                String agentPath = paths.agent(node);
                Json.decode(agentPath, client.getData().forPath(agentPath), AgentRecord.class)
                        .ifPresent(a -> seqs.put(node, a.heartbeat().seq()));
            } catch (KeeperException.NoNodeException e) {
                // the agent left between listing and reading
            }
        }
        for (StuckDetector.Change change : stuck.observe(seqs, nanoTime.getAsLong())) {
            if (change.stuck()) {
                LOG.warn(
                        "agent {} is stuck: heartbeat seq {} unchanged for {}",
                        change.node(),
                        change.seq(),
                        change.silentFor());
                events.record(
                        "agent-stuck",
                        change.node() + ": heartbeat seq " + change.seq() + " unchanged for "
                                + change.silentFor().toMillis() + "ms");
            } else {
                events.record(
                        "agent-unstuck", change.node() + ": heartbeat advancing again (seq " + change.seq() + ")");
            }
        }
    }

    private AgentRecord next() {
        return record.withHeartbeat(new Heartbeat(record.heartbeat().seq() + 1, clock.instant()), scheduler);
    }

    /**
     * A hand-over: stops the heartbeat but leaves this agent's node, which stays for as long as the
     * session does: the next agent resumes that session and writes the node again ({@link #start}).
     */
    public void leave() {
        if (state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            executor.shutdown();
        }
    }

    /** Stops the heartbeat and removes this agent's node (it would go with the session anyway). */
    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        executor.shutdown();
        try {
            executor.awaitTermination(1, TimeUnit.SECONDS);
            if (!client.getZookeeperClient().isConnected()) {
                return; // nothing to tidy that the session's end won't remove
            }
            Stat stat = client.checkExists().forPath(path);
            if (ZkSession.owns(client, stat)) {
                client.delete().withVersion(stat.getVersion()).forPath(path);
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.debug("could not remove {} on close; it goes with the session", path, e);
        }
    }
}
