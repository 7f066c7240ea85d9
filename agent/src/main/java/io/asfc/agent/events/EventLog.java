package io.asfc.agent.events;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail: persistent sequential {@code events/event-<seq>} nodes, trimmed to the newest
 * {@code retain}.
 *
 * <p>{@link #record} never blocks: it puts the event in a bounded queue, and one thread of its own
 * ({@code asfc-events-N}) writes the queue in order, waiting for ZooKeeper while it is away; that
 * thread exists only while there is something to write (it ends 5 s after the last event). So no
 * caller (a start, a stop, the self-fence) ever waits on ZooKeeper to record what it did. When the
 * queue is full the oldest event is dropped, with one WARN per burst. Recording is best effort: a
 * write that fails is logged and the event dropped. {@link #close()} writes what it can within
 * {@link #FLUSH_BOUND}. Events recorded before {@link #start()} wait in the queue. Every event,
 * written or not, is also handed to a listener (the hooks) as it is recorded: this is the one
 * place every event passes.
 */
public final class EventLog implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);

    /** How many events may wait to be written. */
    public static final int DEFAULT_CAPACITY = 1000;
    /** How long {@link #close()} waits for the queue to be written. */
    public static final Duration FLUSH_BOUND = Duration.ofSeconds(2);

    private static final long CONNECTION_POLL_MS = 200;
    /** The writer's thread ends after this long without an event, and comes back with the next. */
    private static final Duration WRITER_IDLE = Duration.ofSeconds(5);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final String nodeId;
    private final int retain;
    private final Clock clock;
    private final BlockingQueue<EventRecord> queue;
    /** Told of every event as it is recorded (the hooks); must not block. */
    private final Consumer<EventRecord> listener;
    /** Events dropped since the queue last had room: the WARN is logged at the first of a burst. */
    private final AtomicLong dropped = new AtomicLong();

    /** Writes the queue in order; its one thread exists only while there are events to write. */
    private final ThreadPoolExecutor writer;
    /** A drain is queued or running on the writer: another is not needed. */
    private final AtomicBoolean draining = new AtomicBoolean();

    public EventLog(CuratorFramework client, ZkPaths paths, String nodeId, int retain, Clock clock) {
        this(client, paths, nodeId, retain, clock, DEFAULT_CAPACITY);
    }

    public EventLog(CuratorFramework client, ZkPaths paths, String nodeId, int retain, Clock clock, int capacity) {
        this(client, paths, nodeId, retain, clock, capacity, event -> {});
    }

    /**
     * @param listener told of every event as it is recorded, before it is written, on the recording
     *     thread: it must return at once (the hooks queue it)
     */
    public EventLog(
            CuratorFramework client,
            ZkPaths paths,
            String nodeId,
            int retain,
            Clock clock,
            int capacity,
            Consumer<EventRecord> listener) {
        this.client = client;
        this.listener = listener;
        this.paths = paths;
        this.nodeId = nodeId;
        this.retain = retain;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = Threads.idleEnding("asfc-events-%d", nodeId, WRITER_IDLE);
    }

    /** One stored event with its sequence number. */
    public record Stored(long seq, EventRecord event) {}

    /** Starts writing: what was recorded before, then each event as it is recorded. */
    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("event log can be started only once");
        }
        kick();
    }

    /** Queues an event, at once: the writer thread stores it. After {@link #close()} it is only logged. */
    public void record(String type, String detail) {
        EventRecord event = new EventRecord(clock.instant(), nodeId, type, detail);
        LOG.info("event {}: {}", type, detail);
        tell(event);
        if (state.get() == Lifecycle.CLOSED) {
            LOG.warn("event {} not written to {}: the event log is closed", type, paths.events());
            return;
        }
        while (!queue.offer(event)) {
            if (queue.poll() != null && dropped.getAndIncrement() == 0) {
                LOG.warn(
                        "{} events wait to be written to {}: dropping the oldest until ZooKeeper takes them",
                        queue.size() + 1,
                        paths.events());
            }
        }
        if (state.get() != Lifecycle.LATENT) {
            kick(); // also one that raced with close(): written if the writer still takes it
        }
    }

    /** Has the writer drain the queue, unless a drain is already queued or running. */
    private void kick() {
        if (draining.compareAndSet(false, true)) {
            try {
                writer.execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false); // closed meanwhile: close() counts what is left
            }
        }
    }

    private void tell(EventRecord event) {
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            LOG.warn("the listener of event {} failed; the event is recorded all the same", event.type(), e);
        }
    }

    /** The events recorded and not yet written (or being written). */
    public int pending() {
        return queue.size();
    }

    /** How many events were dropped because the queue was full, since the last WARN about it. */
    public long dropped() {
        return dropped.get();
    }

    /** On the writer: writes until the queue is empty; an event queued meanwhile is not left behind. */
    private void drain() {
        try {
            while (true) {
                EventRecord next = queue.poll();
                if (next != null) {
                    awaitConnection();
                    write(next);
                    continue;
                }
                draining.set(false);
                // one recorded after the poll found the queue empty saw draining still true: take it
                if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() gave up waiting: the writer ends
        }
    }

    private void awaitConnection() throws InterruptedException {
        while (!client.getZookeeperClient().isConnected()) {
            client.blockUntilConnected((int) CONNECTION_POLL_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void write(EventRecord event) {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                    .forPath(paths.eventPrefix(), Json.encode(event));
            long lost = dropped.getAndSet(0);
            if (lost > 0) {
                LOG.warn("{} event(s) were dropped while {} could not be written", lost, paths.events());
            }
            trim();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("could not record event {} ({}) in {}", event.type(), event.detail(), paths.events(), e);
        }
    }

    /**
     * The newest events, newest first; malformed ones are skipped (and logged). Works in any
     * state: the command line reads with an event log it never starts.
     *
     * @throws ZkException when ZooKeeper cannot answer
     */
    public List<Stored> recent(int limit) {
        List<String> names = sortedNames();
        List<Stored> result = new ArrayList<>();
        for (int i = names.size() - 1; i >= 0 && result.size() < limit; i--) {
            String path = ZKPaths.makePath(paths.events(), names.get(i));
            try {
                Optional<EventRecord> event = Json.decode(path, client.getData().forPath(path), EventRecord.class);
                long seq = sequenceOf(names.get(i));
                event.ifPresent(e -> result.add(new Stored(seq, e)));
            } catch (KeeperException.NoNodeException e) {
                // trimmed by another agent while we were reading
            } catch (Exception e) {
                Threads.checkInterrupted(e);
                throw new ZkException(path, e);
            }
        }
        return result;
    }

    /**
     * The newest event of one of {@code types}, reading newest first and stopping at the first match
     * (at most the retained events); malformed ones are skipped.
     *
     * @throws ZkException when ZooKeeper cannot answer
     */
    public Optional<Stored> newest(Set<String> types) {
        List<String> names = sortedNames();
        for (int i = names.size() - 1; i >= 0; i--) {
            String path = ZKPaths.makePath(paths.events(), names.get(i));
            try {
                Optional<EventRecord> event = Json.decode(path, client.getData().forPath(path), EventRecord.class)
                        .filter(e -> types.contains(e.type()));
                if (event.isPresent()) {
                    return Optional.of(new Stored(sequenceOf(names.get(i)), event.get()));
                }
            } catch (KeeperException.NoNodeException e) {
                // trimmed by another agent while we were reading
            } catch (Exception e) {
                Threads.checkInterrupted(e);
                throw new ZkException(path, e);
            }
        }
        return Optional.empty();
    }

    private void trim() {
        List<String> names = sortedNames();
        for (int i = 0; i < names.size() - retain; i++) {
            String path = ZKPaths.makePath(paths.events(), names.get(i));
            try {
                client.delete().forPath(path);
            } catch (KeeperException.NoNodeException e) {
                // another agent trimmed it first
            } catch (Exception e) {
                Threads.checkInterrupted(e);
                throw new ZkException(path, e);
            }
        }
    }

    private List<String> sortedNames() {
        try {
            List<String> names = new ArrayList<>(client.getChildren().forPath(paths.events()));
            names.removeIf(n -> sequenceOf(n) < 0);
            names.sort(Comparator.comparingLong(EventLog::sequenceOf));
            return names;
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new ZkException(paths.events(), e);
        }
    }

    private static long sequenceOf(String name) {
        String prefix = ZKPaths.getNodeFromPath(ZKPaths.makePath("/", "event-"));
        if (!name.startsWith(prefix)) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1; // not one of ours, e.g. created by hand with zkCli
        }
    }

    /**
     * Writes what is queued within {@link #FLUSH_BOUND}, then ends the writer; what is left is
     * counted in a WARN. Close it after every component that records events, before the client.
     */
    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            state.compareAndSet(Lifecycle.LATENT, Lifecycle.CLOSED);
            return;
        }
        writer.shutdown(); // a drain queued or running finishes the queue
        try {
            if (!writer.awaitTermination(FLUSH_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
                writer.shutdownNow();
            }
        } catch (InterruptedException e) {
            writer.shutdownNow();
            Thread.currentThread().interrupt();
        }
        int left = queue.size();
        if (left > 0) {
            LOG.warn(
                    "{} event(s) not written to {} within {}ms of closing",
                    left,
                    paths.events(),
                    FLUSH_BOUND.toMillis());
        }
    }
}
