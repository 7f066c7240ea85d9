package io.asfc.agent.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;

/**
 * A test ZooKeeper with a TLS port ({@code secureClientPort}, Netty) that requires a client
 * certificate signed by the {@link TestPki} CA, beside its plain port for observers.
 *
 * <p>ZooKeeper's server reads its TLS settings from JVM-wide system properties (its config parser
 * copies the {@code ssl.*} keys there). They are restored on {@link #close()}, so that later tests
 * in this JVM get plain servers again; ZooKeeper clients in this JVM see them meanwhile, which is
 * what proves that asfc's client takes its TLS settings from asfc's config only.
 */
public final class TlsZooKeeper implements Closeable {
    private static final String X509_PROVIDER = "zookeeper.authProvider.x509";

    private final Properties before;
    private final TestingServer server;
    private final int securePort;

    private TlsZooKeeper(Properties before, TestingServer server, int securePort) {
        this.before = before;
        this.server = server;
        this.securePort = securePort;
    }

    public static TlsZooKeeper start(TestPki pki, Path dataDir) throws Exception {
        Properties before = (Properties) System.getProperties().clone();
        int securePort = InstanceSpec.getRandomPort();
        Map<String, Object> tls = new HashMap<>();
        tls.put("secureClientPort", Integer.toString(securePort));
        tls.put("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        tls.put("ssl.keyStore.location", pki.serverKeystore().toString());
        tls.put("ssl.keyStore.password", pki.serverPassword());
        tls.put("ssl.trustStore.location", pki.serverTruststore().toString());
        tls.put("ssl.trustStore.password", pki.serverPassword());
        tls.put("ssl.clientAuth", "need");
        tls.put("authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider");
        InstanceSpec spec = new InstanceSpec(dataDir.toFile(), -1, -1, -1, true, -1, -1, -1, tls, "127.0.0.1");
        TestingServer server = new TestingServer(spec, true);
        // The registry of auth schemes is JVM-wide and read once; an earlier plain server in this JVM
        // may have read it before the x509 scheme was configured.
        ProviderRegistry.addOrUpdateProvider(X509_PROVIDER);
        return new TlsZooKeeper(before, server, securePort);
    }

    /** The plain port, for observers that check what the TLS clients wrote. */
    public String plainConnect() {
        return server.getConnectString();
    }

    /** The TLS port. */
    public String tlsConnect() {
        return "127.0.0.1:" + securePort;
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            ProviderRegistry.removeProvider("x509");
            for (String key : System.getProperties().stringPropertyNames()) {
                if (!before.containsKey(key)) {
                    System.clearProperty(key);
                }
            }
            before.stringPropertyNames().forEach(key -> System.setProperty(key, before.getProperty(key)));
        }
    }
}
