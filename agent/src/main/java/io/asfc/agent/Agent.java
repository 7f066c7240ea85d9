package io.asfc.agent;

import io.asfc.agent.zk.EmbeddedZooKeeper;
import io.asfc.agent.zk.ZkClients;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.config.AsfcSettings;
import java.io.Closeable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of the daemon: the only class that constructs components, in the order
 * config → (embedded ZooKeeper) → Curator client → the rest, and closes them in exact reverse.
 */
public final class Agent implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AsfcSettings settings;
    private EmbeddedZooKeeper embedded;
    private CuratorFramework client;

    public Agent(AsfcSettings settings) {
        this.settings = settings;
    }

    /**
     * Starts every component and returns once connected to ZooKeeper. While ZooKeeper is
     * unreachable it keeps trying, with a WARN each connection timeout, until {@link #close()}.
     *
     * @return false when closed before it could finish starting
     */
    public boolean start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("agent can be started only once");
        }
        LOG.info(
                "asfc agent {} starting: node {}, cluster {}, config {}",
                Version.get(),
                settings.nodeId(),
                settings.cluster(),
                settings.source());
        if (settings.zookeeper().isEmbedded()) {
            embedded = new EmbeddedZooKeeper(settings.zookeeper().embedded());
            embedded.start();
        }
        client = ZkClients.start(settings.zookeeper(), settings.nodeId());
        while (state.get() == State.STARTED) {
            try {
                ZkClients.awaitConnected(client, settings.zookeeper());
                LOG.info("connected to ZooKeeper at {}", settings.zookeeper().effectiveConnect());
                LOG.info("asfc agent started: node {}", settings.nodeId());
                return true;
            } catch (ZkUnreachableException e) {
                LOG.warn("{}; still trying", e.getMessage());
            }
        }
        return false;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        LOG.info("asfc agent stopping: node {}", settings.nodeId());
        CloseableUtils.closeQuietly(client);
        CloseableUtils.closeQuietly(embedded);
        LOG.info("asfc agent stopped: node {}", settings.nodeId());
        closed.countDown();
    }
}
