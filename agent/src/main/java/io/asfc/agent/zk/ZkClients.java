package io.asfc.agent.zk;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.ZkSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.Environment;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.StaticHostProvider;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Util;
import org.apache.zookeeper.data.ACL;

/** Builds the one Curator client of an agent or a command from {@link ZkSettings}. */
public final class ZkClients {
    /**
     * Few retries: every caller (heartbeat, election, commands) has its own loop or deadline, and
     * an operation must not block for minutes while ZooKeeper is away.
     */
    private static final int BASE_SLEEP_MS = 100;

    private static final int MAX_SLEEP_MS = 1000;
    private static final int MAX_RETRIES = 3;
    private static final String DIGEST = "digest";

    private ZkClients() {}

    /**
     * A ZooKeeper session to resume, as a previous agent on this host left it for a hand-over: its id
     * and password. Secret: whoever has them holds the session.
     */
    public record Resume(long sessionId, byte[] password) {
        @Override
        public String toString() {
            return "Resume[session 0x" + Long.toHexString(sessionId) + "]"; // never the password
        }
    }

    /** A started client; it connects in the background. */
    public static CuratorFramework start(ZkSettings zk, String nodeId) {
        return start(zk, nodeId, Optional.empty());
    }

    /**
     * A started client that first tries to resume {@code resume}'s session. The server refuses a
     * session that has expired: the client then opens a new one, as after any expiry, and {@link
     * ZkSession#id} tells which it got.
     */
    public static CuratorFramework start(ZkSettings zk, String nodeId, Optional<Resume> resume) {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(zk.effectiveConnect())
                .sessionTimeoutMs(Math.toIntExact(zk.sessionTimeout().toMillis()))
                .connectionTimeoutMs(Math.toIntExact(zk.connectionTimeout().toMillis()))
                .retryPolicy(new BoundedExponentialBackoffRetry(BASE_SLEEP_MS, MAX_SLEEP_MS, MAX_RETRIES))
                .threadFactory(Threads.factory("asfc-curator-%d", nodeId))
                .zkClientConfig(clientConfig(zk));
        if (zk.isSasl()) {
            zk.sasl().jaasFile().ifPresent(JaasConfig::install);
        } else if (zk.hasAuth()) {
            builder.authorization(
                    DIGEST, (zk.authUser() + ":" + zk.authPassword().reveal()).getBytes(StandardCharsets.UTF_8));
        }
        if (zk.acl() == AclMode.CREATOR) {
            builder.aclProvider(new CreatorWritesAclProvider());
        }
        if (resume.isPresent()) {
            builder.zookeeperFactory(new ResumingFactory(resume.get()));
        }
        CuratorFramework client = builder.build();
        client.start();
        return client;
    }

    /**
     * About the longest one Curator call blocks while ZooKeeper is away: each try waits up to the
     * connection timeout for a connection, and the retries sleep in between.
     */
    public static Duration callBound(ZkSettings zk) {
        return zk.connectionTimeout().multipliedBy(MAX_RETRIES + 1L).plusMillis((long) MAX_RETRIES * MAX_SLEEP_MS);
    }

    /** Waits for the first connection; throws {@link ZkUnreachableException} after the connection timeout. */
    public static void awaitConnected(CuratorFramework client, ZkSettings zk) {
        long began = System.nanoTime();
        try {
            if (!client.blockUntilConnected(
                    Math.toIntExact(zk.connectionTimeout().toMillis()), TimeUnit.MILLISECONDS)) {
                Optional<String> tls =
                        zk.client().secure() ? TlsDiagnosis.explain(zk, clientConfig(zk)) : Optional.empty();
                throw new ZkUnreachableException("cannot reach ZooKeeper at " + zk.effectiveConnect() + " within "
                        + zk.connectionTimeout().toMillis() + "ms (asfc.zookeeper.connect,"
                        + " asfc.zookeeper.connection-timeout)"
                        + tls.map(reason -> "; " + reason).orElse(""));
            }
            if (zk.isSasl()) {
                SaslOutcome.await(client, zk, began);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZkUnreachableException("interrupted while connecting to ZooKeeper at " + zk.effectiveConnect());
        }
    }

    /**
     * The ZooKeeper client's own settings, one object per client. ZooKeeper would otherwise take TLS
     * and SASL settings from JVM-wide system properties; the keys asfc configures always come from
     * asfc's settings (an unset keystore stays unset), and system properties supply only the others
     * (e.g. {@code zookeeper.server.principal}).
     */
    static ZKClientConfig clientConfig(ZkSettings zk) {
        ZkSettings.Client tls = zk.client();
        Map<String, String> owned = new HashMap<>();
        if (zk.isSasl()) {
            owned.put(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "true");
            owned.put(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, zk.sasl().section());
            owned.put(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, zk.sasl().kerberosServiceName());
            zk.sasl().jaasFile().ifPresent(file -> {
                owned.put(Environment.JAAS_CONF_KEY, file.toString());
                if (!JaasConfig.usesKerberos(file, zk.sasl().section())) {
                    // ZooKeeper 3.9's FIPS mode (on by default) refuses DIGEST-MD5, the one other mechanism
                    owned.put(X509Util.FIPS_MODE_PROPERTY, "false");
                }
            });
        }
        owned.put(ZKClientConfig.SECURE_CLIENT, Boolean.toString(tls.secure()));
        if (tls.secure()) {
            owned.put(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
            try (ClientX509Util x509 = new ClientX509Util()) {
                store(
                        owned,
                        tls.keystore(),
                        x509.getSslKeystoreLocationProperty(),
                        x509.getSslKeystorePasswdProperty(),
                        x509.getSslKeystoreTypeProperty());
                store(
                        owned,
                        tls.truststore(),
                        x509.getSslTruststoreLocationProperty(),
                        x509.getSslTruststorePasswdProperty(),
                        x509.getSslTruststoreTypeProperty());
                owned.put(
                        x509.getSslHostnameVerificationEnabledProperty(), Boolean.toString(tls.hostnameVerification()));
            }
        }
        return new OwnedClientConfig(owned);
    }

    private static void store(
            Map<String, String> owned,
            Optional<ZkSettings.Store> store,
            String locationKey,
            String passwordKey,
            String typeKey) {
        // an empty location is ZooKeeper's "no store"
        owned.put(locationKey, store.map(s -> s.location().toString()).orElse(""));
        owned.put(passwordKey, store.map(s -> s.password().reveal()).orElse(""));
        owned.put(typeKey, store.map(s -> s.type().name()).orElse(""));
    }

    /** {@code acl = creator}: the authenticated creator may do anything, everyone else may read. */
    private static final class CreatorWritesAclProvider implements ACLProvider {
        private static final List<ACL> ACLS;

        static {
            List<ACL> acls = new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL);
            acls.addAll(ZooDefs.Ids.READ_ACL_UNSAFE);
            // Not List.copyOf: ZooKeeper's validateACL calls contains(null), which immutable lists reject.
            ACLS = Collections.unmodifiableList(acls);
        }

        @Override
        public List<ACL> getDefaultAcl() {
            return ACLS;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return ACLS;
        }
    }

    /** The first handle resumes the session; any later one (after an expiry) is a new session. */
    private static final class ResumingFactory implements ZookeeperFactory {
        private final AtomicReference<Resume> once;

        ResumingFactory(Resume resume) {
            this.once = new AtomicReference<>(resume);
        }

        @Override
        public ZooKeeper newZooKeeper(String connect, int timeout, Watcher watcher, boolean readOnly)
                throws IOException {
            return newZooKeeper(connect, timeout, watcher, readOnly, new ZKClientConfig());
        }

        @Override
        public ZooKeeper newZooKeeper(
                String connect, int timeout, Watcher watcher, boolean readOnly, ZKClientConfig config)
                throws IOException {
            Resume resume = once.getAndSet(null);
            if (resume == null) {
                return new ZooKeeper(connect, timeout, watcher, readOnly, config);
            }
            return new ZooKeeper(
                    connect,
                    timeout,
                    watcher,
                    resume.sessionId(),
                    resume.password(),
                    readOnly,
                    new StaticHostProvider(new ConnectStringParser(connect).getServerAddresses()),
                    config);
        }
    }
}
