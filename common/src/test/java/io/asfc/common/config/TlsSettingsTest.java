package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.StoreType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code asfc.zookeeper.client}: reading the TLS settings and opening the stores at startup. */
class TlsSettingsTest {
    private static final String CONNECT = "asfc.zookeeper.connect = \"zk1:2281,zk2:2281\"\n";
    private static final String STORE_PASSWORD = "right-store-password";
    private static final String WRONG_PASSWORD = "wrong-store-password";

    @TempDir
    Path dir;

    private SettingsLoader loader() {
        return new SettingsLoader(dir, () -> "host-a");
    }

    @Test
    void plainUnlessSecureIsSet() throws IOException {
        ZkSettings.Client client = loader().load(write(CONNECT)).zookeeper().client();

        assertFalse(client.secure());
        assertEquals(Optional.empty(), client.truststore());
        assertEquals(Optional.empty(), client.keystore());
        assertTrue(client.hostnameVerification());
    }

    @Test
    void storeTypeComesFromTheFileNameUnlessSet() throws IOException {
        ZkSettings.Client client = loader().load(write(CONNECT
                        + "asfc.zookeeper.client {\n"
                        + "  keystore.location = \"tls/agent.jks\"\n"
                        + "  truststore { location = \"/etc/asfc/ca.p12\", type = jks }\n"
                        + "}\n"))
                .zookeeper()
                .client();

        assertEquals(
                dir.resolve("tls/agent.jks"), client.keystore().orElseThrow().location());
        assertEquals(StoreType.JKS, client.keystore().orElseThrow().type());
        assertEquals(StoreType.JKS, client.truststore().orElseThrow().type(), "the setting wins");
        assertEquals(StoreType.PEM, StoreType.byFileName(Path.of("ca.PEM")));
        assertEquals(StoreType.PKCS12, StoreType.byFileName(Path.of("agent.pfx")));
        assertEquals(StoreType.PKCS12, StoreType.byFileName(Path.of("truststore")));
    }

    @Test
    void keystorePasswordComesFromTheEnvironment() throws IOException {
        // surefire sets ASFC_ZK_KEYSTORE_PASSWORD for this module's tests
        ZkSettings.Store keystore = loader().load(write(CONNECT + "asfc.zookeeper.client.keystore.location = k.p12\n"))
                .zookeeper()
                .client()
                .keystore()
                .orElseThrow();

        assertEquals("env-keystore-secret", keystore.password().reveal());
    }

    @Test
    void badStoreTypeListsTheAllowedOnes() throws IOException {
        ConfigProblem p = single(write(CONNECT + "asfc.zookeeper.client.truststore.type = pfx\n"));

        assertEquals("asfc.zookeeper.client.truststore.type", p.key());
        assertTrue(p.message().contains("pkcs12 | jks | pem"), p.message());
    }

    @Test
    void secureNeedsATruststore() throws IOException {
        ConfigProblem p = single(write(CONNECT + "asfc.zookeeper.client.secure = true\n"));

        assertEquals("asfc.zookeeper.client.truststore.location", p.key());
        assertTrue(p.message().contains("required when secure = true"), p.message());
    }

    @Test
    void secureIsRefusedWithTheEmbeddedServer() throws IOException {
        Path trust = emptyStore("ca.p12", STORE_PASSWORD);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader().load(
                        write("asfc.zookeeper { connect = embedded, client { secure = true, "
                                + "truststore { location = \"" + trust + "\", password = \"" + STORE_PASSWORD
                                + "\" } } }\n")));

        assertTrue(
                e.problems().stream()
                        .anyMatch(p -> p.key().equals("asfc.zookeeper.client.secure")
                                && p.message().contains("embedded ZooKeeper serves no TLS")),
                e.getMessage());
    }

    @Test
    void missingTruststoreFileIsNamed() throws IOException {
        Path absent = dir.resolve("absent.p12");

        ConfigProblem p = single(write(CONNECT + secure("truststore", absent, STORE_PASSWORD)));

        assertEquals("asfc.zookeeper.client.truststore.location", p.key());
        assertEquals(absent + " does not exist or is not readable", p.message());
    }

    @Test
    void wrongTruststorePasswordNamesTheFileButNotThePassword() throws Exception {
        Path trust = emptyStore("ca.p12", STORE_PASSWORD);

        ConfigProblem p = single(write(CONNECT + secure("truststore", trust, WRONG_PASSWORD)));

        assertEquals("asfc.zookeeper.client.truststore.location", p.key());
        assertTrue(p.message().contains("cannot open " + trust + " as PKCS12: wrong password"), p.message());
        assertFalse(p.toString().contains(WRONG_PASSWORD) || p.toString().contains(STORE_PASSWORD), p.toString());
    }

    @Test
    void wrongTypeIsNamedWithTheFile() throws Exception {
        Path trust = emptyStore("ca.p12", STORE_PASSWORD);

        ConfigProblem p = single(write(CONNECT
                + secure("truststore", trust, STORE_PASSWORD)
                + "asfc.zookeeper.client.truststore.type = pem\n"));

        assertEquals(
                trust + " holds no certificate (read as PEM; if that is not its type,"
                        + " set asfc.zookeeper.client.truststore.type)",
                p.message());
    }

    @Test
    void storesWithoutTheirEntriesAreProblems() throws Exception {
        Path trust = emptyStore("ca.p12", STORE_PASSWORD);
        Path key = emptyStore("agent.p12", STORE_PASSWORD);
        Path file = write(CONNECT
                + secure("truststore", trust, STORE_PASSWORD)
                + "asfc.zookeeper.client.keystore { location = \"" + key + "\", password = \"" + STORE_PASSWORD
                + "\" }\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader().load(file));

        assertTrue(e.getMessage().contains(trust + " holds no certificate"), e.getMessage());
        assertTrue(e.getMessage().contains(key + " holds no private key"), e.getMessage());
    }

    private static String secure(String which, Path location, String password) {
        return "asfc.zookeeper.client { secure = true, " + which + " { location = \"" + location + "\", password = \""
                + password + "\" } }\n";
    }

    private Path emptyStore(String name, String password) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.store(out, password.toCharArray());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot write PKCS12", e);
        }
        return file;
    }

    private ConfigProblem single(Path file) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader().load(file));
        assertEquals(1, e.problems().size(), e.getMessage());
        return e.problems().get(0);
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "asfc", ".conf");
        Files.writeString(file, content);
        return file;
    }
}
