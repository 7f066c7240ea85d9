package io.asfc.agent.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.asfc.common.config.SettingsLoader;
import io.asfc.common.config.ZkSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.Environment;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Util;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ZooKeeper client settings that {@code auth.scheme = sasl} gives each client of its own. */
class SaslClientConfigTest {
    private static final String JAAS =
            """
            Digest {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              username="asfc"
              password="not-printed";
            };
            Kerberos {
              com.sun.security.auth.module.Krb5LoginModule required
              useKeyTab=true
              keyTab="/etc/asfc/asfc.keytab"
              principal="asfc@EXAMPLE.COM";
            };
            """;

    @TempDir
    Path dir;

    @Test
    void digestMd5SectionGetsSaslWithItsSectionAndFipsModeOff() throws IOException {
        ZKClientConfig config = ZkClients.clientConfig(sasl("Digest", "zookeeper"));

        assertEquals("true", config.getProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY));
        assertEquals("Digest", config.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY));
        assertEquals("zookeeper", config.getProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME));
        assertEquals(dir.resolve("jaas.conf").toString(), config.getProperty(Environment.JAAS_CONF_KEY));
        assertEquals("false", config.getProperty(X509Util.FIPS_MODE_PROPERTY));
    }

    @Test
    void kerberosSectionKeepsZooKeepersFipsModeAndTakesTheServiceName() throws IOException {
        ZKClientConfig config = ZkClients.clientConfig(sasl("Kerberos", "zk"));

        assertEquals("Kerberos", config.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY));
        assertEquals("zk", config.getProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME));
        assertEquals(System.getProperty(X509Util.FIPS_MODE_PROPERTY), config.getProperty(X509Util.FIPS_MODE_PROPERTY));
    }

    @Test
    void digestSchemeSetsNoSaslSetting() throws IOException {
        ZKClientConfig config = ZkClients.clientConfig(load("asfc.zookeeper.connect = \"zk1:2181\"\n"));

        assertNull(config.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY));
        assertNull(config.getProperty(X509Util.FIPS_MODE_PROPERTY));
    }

    private ZkSettings sasl(String section, String service) throws IOException {
        Files.writeString(dir.resolve("jaas.conf"), JAAS);
        return load("asfc.zookeeper.connect = \"zk1:2181\"\n"
                + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = " + section
                + ", kerberos-service-name = " + service + " }\n");
    }

    private ZkSettings load(String content) throws IOException {
        Path file = Files.writeString(dir.resolve("asfc.conf"), content);
        return new SettingsLoader(dir, () -> "host-a").load(file).zookeeper();
    }
}
