package io.asfc.agent.zk;

import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.config.ZkSettings;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node ZooKeeper server inside the agent, for {@code zookeeper.connect = "embedded"}. It
 * lets asfc run on one machine without an ensemble; it is not highly available.
 */
public final class EmbeddedZooKeeper implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final int TICK_MS = 1000;
    private static final int MAX_CONNECTIONS = 200;

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final ZkSettings.Embedded settings;
    private ServerCnxnFactory factory;

    public EmbeddedZooKeeper(ZkSettings.Embedded settings) {
        this.settings = settings;
    }

    /** Starts listening; throws {@link EmbeddedZooKeeperException} naming the address when it can't. */
    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("embedded ZooKeeper can be started only once");
        }
        String address = settings.bind() + ":" + settings.port();
        LOG.warn(
                "starting an EMBEDDED single-node ZooKeeper on {} (data in {}): this is NOT highly available;"
                        + " use a ZooKeeper ensemble in production",
                address,
                settings.dataDir());
        // Only the harmless four-letter words, so operators can check it with 'echo srvr | nc'.
        System.setProperty(
                "zookeeper.4lw.commands.whitelist",
                System.getProperty("zookeeper.4lw.commands.whitelist", "srvr,ruok,mntr,stat"));
        try {
            Files.createDirectories(settings.dataDir());
            ZooKeeperServer server = new ZooKeeperServer(
                    settings.dataDir().toFile(), settings.dataDir().toFile(), TICK_MS);
            server.setMinSessionTimeout(2 * TICK_MS);
            server.setMaxSessionTimeout(120 * TICK_MS);
            factory = ServerCnxnFactory.createFactory(
                    new InetSocketAddress(settings.bind(), settings.port()), MAX_CONNECTIONS);
            factory.startup(server);
        } catch (BindException e) {
            throw new EmbeddedZooKeeperException(
                    "embedded ZooKeeper cannot listen on " + address + ": " + e.getMessage()
                            + " (is another ZooKeeper or asfc agent using that port?"
                            + " set asfc.zookeeper.embedded.port)",
                    e);
        } catch (IOException e) {
            throw new EmbeddedZooKeeperException(
                    "embedded ZooKeeper failed to start on " + address + " with data dir " + settings.dataDir() + ": "
                            + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedZooKeeperException("interrupted while starting embedded ZooKeeper", e);
        }
        LOG.info("embedded ZooKeeper listening on {}", address);
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        if (factory != null) {
            factory.shutdown();
        }
        LOG.info("embedded ZooKeeper stopped");
    }

    /** The embedded server could not start. */
    public static final class EmbeddedZooKeeperException extends RuntimeException {
        EmbeddedZooKeeperException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
