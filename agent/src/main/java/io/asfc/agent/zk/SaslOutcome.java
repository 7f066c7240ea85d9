package io.asfc.agent.zk;

import io.asfc.common.config.ZkSettings;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ThreadUtils;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.client.ZooKeeperSaslClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code auth.scheme = sasl}, a connection is only half the way: ZooKeeper's client reports
 * CONNECTED before its SASL exchange, and a failed exchange (or a login that failed before it)
 * shows only as a later event. Requests wait for the exchange to end, so one read tells the
 * outcome; a rejected login becomes a {@link ZkUnreachableException} that says so, instead of
 * writes failing later with a bare "auth failed" or, worse, succeeding unauthenticated with other ACLs.
 */
final class SaslOutcome {
    private static final Logger LOG = LoggerFactory.getLogger(SaslOutcome.class);

    private SaslOutcome() {}

    /**
     * Returns when this connection is SASL-authenticated; throws {@link ZkUnreachableException}
     * otherwise, not before the connection timeout has passed since {@code began} (so that a caller
     * that keeps trying does not spin), and with the client's ZooKeeper handle renewed (a rejected
     * handle never connects again).
     */
    static void await(CuratorFramework client, ZkSettings zk, long began) {
        Optional<String> failure;
        try {
            failure = failure(client, zk);
        } catch (Exception e) {
            ThreadUtils.checkInterrupted(e);
            throw failed(
                    client,
                    zk,
                    began,
                    "ZooKeeper at " + zk.effectiveConnect() + " did not answer after the SASL authentication " + of(zk)
                            + ": " + e);
        }
        if (failure.isPresent()) {
            throw failed(client, zk, began, failure.get());
        }
    }

    /**
     * Why the current connection is not SASL-authenticated, empty when it is; throws what the read
     * that waits for the exchange threw when ZooKeeper did not answer it (the connection went again).
     */
    static Optional<String> failure(CuratorFramework client, ZkSettings zk) throws Exception {
        try {
            // ZooKeeper holds this request until the SASL exchange has ended
            client.checkExists().forPath("/");
        } catch (KeeperException.AuthFailedException e) {
            boolean kerberos = zk.sasl()
                    .jaasFile()
                    .map(file -> JaasConfig.usesKerberos(file, zk.sasl().section()))
                    .orElse(false);
            return Optional.of("ZooKeeper at " + zk.effectiveConnect() + " rejected the SASL authentication " + of(zk)
                    + (kerberos
                            // the client also ends here when it got no service ticket for the servers
                            ? ", or this client could not get a Kerberos ticket for the servers' principal: a"
                                    + " principal the servers do not accept, or a wrong servers' principal ("
                                    + zk.sasl().kerberosServiceName()
                                    + "/<host of connect>, asfc.zookeeper.auth.kerberos-service-name) (see the"
                                    + " servers' log, and" + ownLog() + " for the client's reason)"
                            : ": a wrong user name or password, or a principal the servers do not accept"
                                    + " (see the servers' log)"));
        }
        ZooKeeperSaslClient sasl = client.getZookeeperClient().getZooKeeper().getSaslClient();
        if (sasl != null && sasl.isComplete()) {
            return Optional.empty();
        }
        // ZooKeeper's client then goes on without SASL, unauthenticated
        Optional<String> reason = zk.sasl()
                .jaasFile()
                .flatMap(file -> JaasConfig.kerberosLoginFailure(file, zk.sasl().section()));
        return Optional.of("the SASL login " + of(zk) + " failed before reaching ZooKeeper at " + zk.effectiveConnect()
                + " (for Kerberos: the principal, the keytab, krb5.conf, the KDC)"
                + reason.map(why -> ": " + why).orElse(""));
    }

    /**
     * Renews the client's ZooKeeper handle after a failed authentication (a rejected handle never
     * connects again, and one whose login failed stays unauthenticated), not before the connection
     * timeout has passed since {@code began}.
     */
    static void renew(CuratorFramework client, ZkSettings zk, long began) {
        failed(client, zk, began, "");
    }

    private static ZkUnreachableException failed(CuratorFramework client, ZkSettings zk, long began, String why) {
        try {
            client.getZookeeperClient().reset();
        } catch (Exception e) {
            ThreadUtils.checkInterrupted(e);
            LOG.warn("could not renew the ZooKeeper handle after a failed SASL authentication", e);
        }
        long left = zk.connectionTimeout().toNanos() - (System.nanoTime() - began);
        if (left > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new ZkUnreachableException(why);
    }

    /** " this client's log, FILE" as bin/asfc-agent names it, else " this client's log". */
    private static String ownLog() {
        String dir = System.getProperty("asfc.log.dir");
        String name = System.getProperty("asfc.log.name");
        return " this client's log" + (dir != null && name != null ? ", " + Path.of(dir, name + ".log") + "," : "");
    }

    private static String of(ZkSettings zk) {
        return "with JAAS section '" + zk.sasl().section() + "' of "
                + zk.sasl().jaasFile().map(Object::toString).orElse("the JVM's JAAS configuration")
                + " (asfc.zookeeper.auth.jaas-file, jaas-section)";
    }
}
