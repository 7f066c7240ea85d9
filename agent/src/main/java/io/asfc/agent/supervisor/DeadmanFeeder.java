package io.asfc.agent.supervisor;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the on-host deadman ({@link Watchdog}, {@code CommandDeadman}) only on proof that ZooKeeper
 * still answers this agent: every tenth of {@code deadman-timeout} it asks ZooKeeper (an {@code
 * exists} on {@code pingPath}, in the background), and renews when, and only when, the answer comes.
 * So the last renewal is never later than the server last heard from this agent, and the deadman,
 * counting {@code deadman-timeout} from it, acts before the session can expire and another host take
 * over (S4Budget). A client that still believes it is connected during a silent partition (Curator
 * says SUSPENDED only after 2/3 of the session timeout) renews nothing. When the JVM freezes (GC
 * pause, SIGSTOP, swap storm, a debugger), renewals stop with it and the deadman, a process of its
 * own, stops the scheduler. An agent wedged while ZooKeeper still answers keeps its session, so no
 * other host takes over: that is a liveness problem ({@code /health}), not an S1 one.
 */
public final class DeadmanFeeder implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadmanFeeder.class);
    private static final Duration MIN_PERIOD = Duration.ofMillis(50);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final SchedulerRunner runner;
    private final CuratorFramework client;
    private final String pingPath;
    private final Duration period;
    private final ScheduledExecutorService executor;
    /** One question at a time: a silent server is not asked again until it answers or the call fails. */
    private final AtomicBoolean asking = new AtomicBoolean();
    /** When the question in flight was asked (monotonic nanos): one unanswered for 10 periods is given up. */
    private volatile long askedAt;

    public DeadmanFeeder(
            String nodeId, SchedulerRunner runner, CuratorFramework client, String pingPath, Duration deadman) {
        this.runner = runner;
        this.client = client;
        this.pingPath = pingPath;
        Duration tenth = deadman.dividedBy(10);
        this.period = tenth.compareTo(MIN_PERIOD) < 0 ? MIN_PERIOD : tenth;
        this.executor = Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-deadman-%d", nodeId));
    }

    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("the deadman feeder can be started only once");
        }
        long ms = period.toMillis();
        executor.scheduleAtFixedRate(this::ask, 0, ms, TimeUnit.MILLISECONDS);
    }

    private void ask() {
        long now = System.nanoTime();
        if (asking.get() && now - askedAt > period.toNanos() * 10) {
            asking.set(false); // never answered, not even with an error: ask again rather than starve
        }
        if (!client.getZookeeperClient().isConnected() || !asking.compareAndSet(false, true)) {
            return;
        }
        askedAt = now;
        try {
            client.checkExists().inBackground((c, event) -> answered(event)).forPath(pingPath);
        } catch (Exception e) {
            asking.set(false);
            Threads.checkInterrupted(e);
            LOG.debug("could not ask ZooKeeper for the deadman's renewal", e);
        }
    }

    /** On Curator's event thread: a server answered (the node's existence does not matter). */
    private void answered(CuratorEvent event) {
        asking.set(false);
        int rc = event.getResultCode();
        if (state.get() == Lifecycle.STARTED
                && (rc == KeeperException.Code.OK.intValue() || rc == KeeperException.Code.NONODE.intValue())) {
            try {
                runner.renew();
            } catch (RuntimeException e) {
                // a failed renewal must not stop the next one
                LOG.warn("could not renew the deadman", e);
            }
        }
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        executor.shutdownNow();
    }
}
