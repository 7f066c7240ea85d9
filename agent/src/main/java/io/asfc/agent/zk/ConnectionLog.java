package io.asfc.agent.zk;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's log of its ZooKeeper connection, in place of ZooKeeper's and Curator's own (a line and
 * a stack trace per reconnect attempt): one WARN when the connection goes, one line per state
 * change, and "still disconnected (N s)" 15 s after it went, then at doubling intervals (15 s, 45 s,
 * 105 s…) up to one every 5 min.
 */
public final class ConnectionLog implements ConnectionStateListener, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLog.class);
    static final Duration FIRST_REMINDER = Duration.ofSeconds(15);
    static final Duration MAX_REMINDER = Duration.ofMinutes(5);
    private static final Duration IDLE = Duration.ofSeconds(5);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final String connect;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService executor;
    // Only touched on the executor's thread.
    private long lostAtNanos;
    private boolean disconnected;
    private ScheduledFuture<?> reminder;

    public ConnectionLog(String connect, String nodeId, LongSupplier nanoTime) {
        this.connect = connect;
        this.nanoTime = nanoTime;
        // no thread while nothing happens: one comes with a change of state and stays while a
        // reminder is pending (ZooKeeper is away), then ends
        this.executor = Threads.idleEndingScheduled("asfc-zk-log-%d", nodeId, IDLE);
    }

    public void start(CuratorFramework client) {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("connection log can be started only once");
        }
        client.getConnectionStateListenable().addListener(this, executor);
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState newState) {
        long now = nanoTime.getAsLong();
        switch (newState) {
            case SUSPENDED -> {
                if (!disconnected) {
                    disconnected = true;
                    lostAtNanos = now;
                    LOG.warn("lost the connection to ZooKeeper at {}; reconnecting", connect);
                    remindAfter(FIRST_REMINDER);
                }
            }
            case LOST -> LOG.info(
                    // without SUSPENDED first (a frozen agent, a renewed handle), lostAtNanos is an older outage's
                    "ZooKeeper session expired{}; a new one starts once ZooKeeper answers",
                    disconnected ? " (" + seconds(now) + " s without a connection)" : "");
            case RECONNECTED -> {
                LOG.info("reconnected to ZooKeeper at {} after {} s", connect, disconnected ? seconds(now) : 0);
                disconnected = false;
                if (reminder != null) {
                    reminder.cancel(false);
                }
            }
            case READ_ONLY -> LOG.info("connected to ZooKeeper read-only (no quorum)");
            default -> {} // CONNECTED, the first connection: the agent logs it as it starts
        }
    }

    private void remindAfter(Duration delay) {
        reminder = executor.schedule(
                () -> {
                    if (disconnected) {
                        LOG.warn("still disconnected from ZooKeeper ({} s)", seconds(nanoTime.getAsLong()));
                        Duration next = delay.multipliedBy(2);
                        remindAfter(next.compareTo(MAX_REMINDER) > 0 ? MAX_REMINDER : next);
                    }
                },
                delay.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private long seconds(long now) {
        return Duration.ofNanos(now - lostAtNanos).toSeconds();
    }

    @Override
    public void close() {
        if (state.getAndSet(Lifecycle.CLOSED) == Lifecycle.CLOSED) {
            return;
        }
        executor.shutdownNow();
    }
}
