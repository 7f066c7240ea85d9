package io.asfc.agent.zk;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.ZkSettings;
import java.io.Closeable;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code auth.scheme = sasl}, checks every reconnection of the running agent as {@link
 * SaslOutcome} checks the first one. A new ZooKeeper handle (after a session expired) logs in to
 * Kerberos afresh; when that login fails (KDC down, keytab replaced) ZooKeeper's client connects
 * without SASL, unauthenticated, and never tries the login again on that connection: the agent
 * would stay connected but unable to write its znodes ({@code acl = creator}) after the KDC is back.
 * So such a connection is renewed, at most once per connection timeout, with a WARN that says why.
 */
public final class SaslReconnectCheck implements ConnectionStateListener, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(SaslReconnectCheck.class);

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final ZkSettings zk;
    private final ExecutorService executor;

    public SaslReconnectCheck(ZkSettings zk, String nodeId) {
        this.zk = zk;
        this.executor = Executors.newSingleThreadExecutor(Threads.factory("asfc-sasl-check-%d", nodeId));
    }

    /** Checks {@code client}'s reconnections from now on; call once its first connection has been checked. */
    public void start(CuratorFramework client) {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("SASL reconnect check can be started only once");
        }
        client.getConnectionStateListenable().addListener(this, executor);
    }

    @Override
    public void stateChanged(CuratorFramework client, ConnectionState newState) {
        if (newState != ConnectionState.RECONNECTED || state.get() != Lifecycle.STARTED) {
            return;
        }
        long began = System.nanoTime();
        Optional<String> failure;
        try {
            failure = SaslOutcome.failure(client, zk);
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            // the connection went again before the exchange ended; the next reconnection is checked
            LOG.debug("could not check the SASL authentication of the reconnection: {}", e.toString());
            return;
        }
        if (failure.isPresent() && state.get() == Lifecycle.STARTED) {
            LOG.warn("{}; renewing the ZooKeeper connection to log in again", failure.get());
            SaslOutcome.renew(client, zk, began);
        }
    }

    @Override
    public void close() {
        if (state.getAndSet(Lifecycle.CLOSED) == Lifecycle.CLOSED) {
            return;
        }
        executor.shutdownNow();
    }
}
