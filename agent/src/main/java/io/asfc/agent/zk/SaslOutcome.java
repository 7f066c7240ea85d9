package io.asfc.agent.zk;

import io.asfc.common.config.ZkSettings;
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
        ZooKeeperSaslClient sasl;
        try {
            // ZooKeeper holds this request until the SASL exchange has ended
            client.checkExists().forPath("/");
            sasl = client.getZookeeperClient().getZooKeeper().getSaslClient();
        } catch (KeeperException.AuthFailedException e) {
            throw failed(
                    client,
                    zk,
                    began,
                    "ZooKeeper at " + zk.effectiveConnect() + " rejected the SASL authentication " + of(zk)
                            + ": a wrong user name or password, or a principal the servers do not accept"
                            + " (see the servers' log)");
        } catch (Exception e) {
            ThreadUtils.checkInterrupted(e);
            throw failed(
                    client,
                    zk,
                    began,
                    "ZooKeeper at " + zk.effectiveConnect() + " did not answer after the SASL authentication " + of(zk)
                            + ": " + e);
        }
        if (sasl == null || !sasl.isComplete()) {
            throw failed(
                    client,
                    zk,
                    began,
                    "the SASL login " + of(zk) + " failed before reaching ZooKeeper at " + zk.effectiveConnect()
                            + " (for Kerberos: the principal, the keytab, krb5.conf; see this log)");
        }
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

    private static String of(ZkSettings zk) {
        return "with JAAS section '" + zk.sasl().section() + "' of "
                + zk.sasl().jaasFile().map(Object::toString).orElse("the JVM's JAAS configuration")
                + " (asfc.zookeeper.auth.jaas-file, jaas-section)";
    }
}
