package io.asfc.agent.election;

import io.asfc.agent.cluster.NewerSchemas;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Loop;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.zk.ZkSession;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.EpochRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.SchemaVersion;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ACTIVE/STANDBY election with a Curator {@link LeaderLatch}. On gaining leadership it takes an
 * epoch (bumps the epoch znode's version in a transaction that checks its latch node), writes the
 * ephemeral {@code active} znode and records an event. A leader whose session survived a short
 * blip resumes its epoch instead of taking a new one. The lease is revoked at once on SUSPENDED.
 *
 * <p>An agent that finds a record of a newer major schema in the cluster ({@link NewerSchemas}) does
 * not become ACTIVE: it leaves the election (closes its latch, handing leadership over if it held
 * it), says so (an ERROR, a {@code newer-schema} event, the {@code asfc_newer_schema} gauge) and
 * rejoins with a new latch once no such record is left (docs/UPGRADE.md). It does not poll for them: a
 * persistent recursive watch on the cluster's znode tells it of every change under it, and it reads
 * again only a record that changed (one {@code getData}), plus every record once each time the
 * watch is set (at start and after each reconnect, when changes may have been missed), and again
 * {@link #SCHEMA_RETRY_MS} after a look that failed.
 *
 * <p>Every callback runs on this component's own single thread, never on Curator's event thread.
 */
public final class Election implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Election.class);
    private static final long RETRY_MS = 1000;
    private static final long PULSE_MS = 1000;
    /** When a look for records of a newer major schema failed, how soon every record is read again. */
    private static final long SCHEMA_RETRY_MS = 2000;

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final AtomicReference<Lease> current = new AtomicReference<>();
    private final List<Consumer<Optional<Lease>>> roleListeners = new CopyOnWriteArrayList<>();
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final String nodeId;
    private final FencedWriter writer;
    private final EventLog events;
    private final Metrics metrics;
    private final Clock clock;
    private final ScheduledExecutorService executor;
    /** Replaced by a new one when this agent rejoins the election after a refusal. */
    private volatile LeaderLatch latch;

    private final ConnectionStateListener connectionListener = this::connectionChanged;

    /** The last lease held, to resume it after a blip that the session survived. */
    private volatile Lease last;

    /** While this agent refuses to become ACTIVE: the records of a newer major schema it found. */
    private volatile String refusal;

    /** Tells of every change under the cluster's znode, for the newer-schema check. */
    private final PersistentWatcher schemaWatch;

    /** The records of a newer major schema last seen, by path; only touched on the election thread. */
    private final Map<String, String> newer = new LinkedHashMap<>();

    /** A full look is scheduled after a failed one; only touched on the election thread. */
    private boolean schemaRetryScheduled;

    public Election(
            CuratorFramework client,
            ZkPaths paths,
            String nodeId,
            FencedWriter writer,
            EventLog events,
            Metrics metrics,
            Clock clock) {
        this.client = client;
        this.paths = paths;
        this.nodeId = nodeId;
        this.writer = writer;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-election-%d", nodeId));
        this.latch = newLatch();
        this.schemaWatch = new PersistentWatcher(client, paths.cluster(), true);
    }

    private LeaderLatch newLatch() {
        LeaderLatch created = new LeaderLatch(client, paths.leader(), nodeId, LeaderLatch.CloseMode.NOTIFY_LEADER);
        created.addListener(
                new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        becomeLeader();
                    }

                    @Override
                    public void notLeader() {
                        revoke("the leader latch says this node is no longer leader");
                    }
                },
                executor);
        return created;
    }

    /** Called on the election thread with the new lease (ACTIVE) or empty (STANDBY). */
    public void addRoleListener(Consumer<Optional<Lease>> listener) {
        roleListeners.add(listener);
    }

    /** @throws ZkException when the leader latch cannot start */
    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("election can be started only once");
        }
        client.getConnectionStateListenable().addListener(connectionListener);
        // the thread only runs callbacks: a pulse shows that it is free to run them
        executor.scheduleWithFixedDelay(() -> metrics.progress(Loop.ELECTION), 0, PULSE_MS, TimeUnit.MILLISECONDS);
        // set at start and again after each reconnect: then every record is read, changes may have been missed
        schemaWatch.getResetListenable().addListener(() -> onElectionThread(this::checkSchemas));
        schemaWatch.getListenable().addListener(this::changed);
        schemaWatch.start();
        ZkException.call(paths.leader(), () -> {
            latch.start();
            return null;
        });
    }

    /** The lease while this node is ACTIVE and connected; a hint: fenced writes decide. */
    public Optional<Lease> lease() {
        return Optional.ofNullable(current.get());
    }

    public boolean isActive() {
        return current.get() != null;
    }

    /**
     * A fenced write proved {@code lease} gone (another leader bumped the epoch, or the latch node
     * was removed): stop being ACTIVE at once, so {@code active} and the role never show a zombie,
     * then try again, which takes a new epoch only if this node's latch still leads.
     */
    public void leadershipLost(Lease lease) {
        executor.execute(() -> {
            if (current.compareAndSet(lease, null)) {
                LOG.warn("STANDBY: a fenced write proved leadership at epoch {} gone", lease.epoch());
                last = null;
                notifyRole(Optional.empty());
                executor.schedule(this::becomeLeader, RETRY_MS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void connectionChanged(CuratorFramework c, ConnectionState newState) {
        if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
            // On Curator's event thread: only a non-blocking revoke; listeners run on our thread.
            Lease old = current.getAndSet(null);
            if (old != null) {
                LOG.warn("connection {}: stop acting as ACTIVE at once (epoch {})", newState, old.epoch());
                executor.execute(() -> notifyRole(Optional.empty()));
            }
        }
    }

    private void becomeLeader() {
        LeaderLatch latch = this.latch;
        String latchPath = latch.getLastPathIsLeader();
        if (state.get() != Lifecycle.STARTED || refusal != null || latchPath == null || !latch.hasLeadership()) {
            return;
        }
        try {
            Map<String, String> found = NewerSchemas.byPath(client, paths);
            if (!found.isEmpty()) {
                newer.clear();
                newer.putAll(found); // what the watch's changes are applied to from now on
                refuse(List.copyOf(found.values()));
                return;
            }
            Lease lease = resumeOrTakeEpoch(latchPath);
            boolean resumed = lease == last;
            writeActive(lease, resumed);
            if (!latch.hasLeadership() || !client.getZookeeperClient().isConnected()) {
                return; // lost it meanwhile; notLeader or a reconnect will follow
            }
            current.set(lease);
            last = lease;
            LOG.info("ACTIVE: {} leads at epoch {}{}", nodeId, lease.epoch(), resumed ? " (resumed)" : "");
            notifyRole(Optional.of(lease));
            events.record(resumed ? "leader-resumed" : "leader-elected", "epoch " + lease.epoch());
        } catch (LeadershipLostException e) {
            LOG.warn("could not take leadership: {}", e.getMessage());
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("could not take leadership; retrying in {}ms", RETRY_MS, e);
            executor.schedule(this::becomeLeader, RETRY_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** On ZooKeeper's event thread: a record the newer-schema check looks at changed; read it again. */
    private void changed(WatchedEvent event) {
        String path = event.getPath();
        if (path != null && NewerSchemas.recordAt(paths, path).isPresent()) {
            onElectionThread(() -> checkSchema(path));
        }
    }

    /** From ZooKeeper's threads; once closed there is nothing left to look at. */
    private void onElectionThread(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            if (state.get() != Lifecycle.CLOSED) {
                throw e;
            }
        }
    }

    /** On the election thread: reads every record and leaves or rejoins the election as they say. */
    private void checkSchemas() {
        if (state.get() != Lifecycle.STARTED || !client.getZookeeperClient().isConnected()) {
            return; // the watch is set again on reconnect, and this runs again then
        }
        try {
            Map<String, String> found = NewerSchemas.byPath(client, paths);
            newer.clear();
            newer.putAll(found);
            actOnSchemas();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            retrySchemas(e);
        }
    }

    /** On the election thread: reads the one record that changed. */
    private void checkSchema(String path) {
        if (state.get() != Lifecycle.STARTED) {
            return;
        }
        try {
            Optional<String> found = NewerSchemas.at(client, paths, path);
            if (found.isPresent()) {
                newer.put(path, found.get());
            } else {
                newer.remove(path);
            }
            actOnSchemas();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            retrySchemas(e);
        }
    }

    /** After a failed look: every record again in a while (and at the next reconnect). */
    private void retrySchemas(Exception e) {
        LOG.debug("could not look for records of a newer schema; retrying in {}ms", SCHEMA_RETRY_MS, e);
        if (!schemaRetryScheduled && state.get() == Lifecycle.STARTED) {
            schemaRetryScheduled = true;
            executor.schedule(
                    () -> {
                        schemaRetryScheduled = false;
                        checkSchemas();
                    },
                    SCHEMA_RETRY_MS,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Leaves or rejoins the election as records of a newer major come and go. */
    private void actOnSchemas() throws IOException {
        if (!newer.isEmpty() && refusal == null) {
            refuse(List.copyOf(newer.values()));
        } else if (newer.isEmpty() && refusal != null) {
            rejoin();
        }
    }

    /**
     * Leaves the election: an agent must not lead a cluster whose records it cannot read. If ACTIVE,
     * it hands leadership over as on close (removes {@code active}, closes the latch); the scheduler
     * is not touched: the supervisor holds an assignment of a newer major as it is.
     */
    private void refuse(List<String> newer) throws IOException {
        refusal = String.join(", ", newer);
        LOG.error(
                "refusing to become ACTIVE: {} written by a newer asfc (this agent writes schema {} and reads up to {}.x);"
                        + " upgrade this agent (docs/UPGRADE.md)",
                refusal,
                SchemaVersion.CURRENT,
                SchemaVersion.CURRENT.major());
        metrics.newerSchema(true);
        events.record(
                "newer-schema",
                nodeId + " refuses to become ACTIVE (schema " + SchemaVersion.CURRENT + "): " + refusal);
        Lease lease = current.getAndSet(null);
        if (lease != null) {
            removeActive(lease);
            last = null;
            LOG.warn("STANDBY: left the election at epoch {} (a newer major schema)", lease.epoch());
            notifyRole(Optional.empty());
        }
        closeLatch(latch);
    }

    private void rejoin() {
        LOG.info("no record of a newer major schema is left ({} was): {} rejoins the election", refusal, nodeId);
        events.record("newer-schema-gone", nodeId + " rejoins the election");
        metrics.newerSchema(false);
        refusal = null;
        if (state.get() != Lifecycle.STARTED) {
            return;
        }
        LeaderLatch fresh = newLatch();
        latch = fresh;
        ZkException.call(paths.leader(), () -> {
            fresh.start();
            return null;
        });
    }

    private void removeActive(Lease lease) {
        if (!client.getZookeeperClient().isConnected()) {
            return;
        }
        try {
            writer.commit(lease, List.of(writer.ops().delete().forPath(paths.active())));
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.debug("could not remove {}; it goes with the session", paths.active(), e);
        }
    }

    private Lease resumeOrTakeEpoch(String latchPath) throws Exception {
        for (int attempt = 0; ; attempt++) {
            Stat stat = client.checkExists().forPath(paths.epoch());
            if (stat == null) {
                createEpochNode();
                continue;
            }
            Lease previous = last;
            if (previous != null
                    && previous.latchPath().equals(latchPath)
                    && stat.getVersion() == previous.epochVersion()) {
                return previous;
            }
            long next = stat.getVersion() + 1L;
            try {
                client.transaction()
                        .forOperations(
                                client.transactionOp().check().forPath(latchPath),
                                client.transactionOp()
                                        .setData()
                                        .withVersion(stat.getVersion())
                                        .forPath(
                                                paths.epoch(),
                                                Json.encode(new EpochRecord(nodeId, next, clock.instant()))));
                return new Lease(nodeId, next, latchPath);
            } catch (KeeperException.NoNodeException e) {
                throw new LeadershipLostException("latch node " + latchPath + " is gone");
            } catch (KeeperException.BadVersionException e) {
                if (attempt >= 3) {
                    throw new LeadershipLostException("the epoch keeps moving; another leader is active");
                }
            }
        }
    }

    private void createEpochNode() throws Exception {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .forPath(paths.epoch(), Json.encode(new EpochRecord(nodeId, 0, clock.instant())));
        } catch (KeeperException.NodeExistsException e) {
            // another agent created it first
        }
    }

    private void writeActive(Lease lease, boolean resumed) throws Exception {
        Stat stat = client.checkExists().forPath(paths.active());
        if (resumed && ZkSession.owns(client, stat)) {
            return; // our own node from before the blip is still there
        }
        byte[] data = Json.encode(new ActiveRecord(nodeId, lease.epoch(), clock.instant()));
        var create = writer.ops().create().withMode(CreateMode.EPHEMERAL).forPath(paths.active(), data);
        writer.commit(
                lease,
                stat == null
                        ? List.of(create)
                        : List.of(
                                writer.ops()
                                        .delete()
                                        .withVersion(stat.getVersion())
                                        .forPath(paths.active()),
                                create));
    }

    private void revoke(String why) {
        Lease old = current.getAndSet(null);
        if (old == null) {
            return;
        }
        if (state.get() == Lifecycle.CLOSED) {
            LOG.info("STANDBY: leadership handed over on close (was ACTIVE at epoch {})", old.epoch());
        } else {
            LOG.warn("STANDBY: {} (was ACTIVE at epoch {})", why, old.epoch());
        }
        notifyRole(Optional.empty());
    }

    private void notifyRole(Optional<Lease> lease) {
        for (Consumer<Optional<Lease>> listener : roleListeners) {
            try {
                listener.accept(lease);
            } catch (RuntimeException e) {
                LOG.error("role listener failed", e);
            }
        }
    }

    /** Hands leadership over at once: removes {@code active}, closes the latch (its node goes away). */
    @Override
    public void close() throws IOException {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        CloseableUtils.closeQuietly(schemaWatch);
        Lease lease = current.get();
        if (lease != null) {
            removeActive(lease);
        }
        closeLatch(latch);
        executor.shutdown();
        try {
            executor.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeLatch(latch); // a rejoin that raced with this close
    }

    private static void closeLatch(LeaderLatch l) throws IOException {
        if (l.getState() == LeaderLatch.State.STARTED) {
            l.close(); // not twice: a refusing agent closed it already
        }
    }
}
