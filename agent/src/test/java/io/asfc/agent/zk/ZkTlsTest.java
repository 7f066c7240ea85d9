package io.asfc.agent.zk;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.TestPki;
import io.asfc.agent.testing.TlsZooKeeper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code asfc.zookeeper.client.secure}: the agent and the commands talk TLS to a ZooKeeper whose
 * secure port requires a client certificate, and a client that can't is told why (exit 69).
 */
class ZkTlsTest {
    @TempDir
    static Path pkiDir;

    private static TestPki pki;

    @TempDir
    Path dir;

    private TlsZooKeeper zk;
    private TestAgents agents;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(pkiDir);
    }

    @BeforeEach
    void start() throws Exception {
        zk = TlsZooKeeper.start(pki, dir.resolve("zk"));
        agents = new TestAgents(dir, zk.plainConnect());
    }

    @AfterEach
    void stop() throws Exception {
        if (agents != null) {
            agents.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    void agentAndCommandsWorkOverTls() throws Exception {
        agents.start("a", zk.tlsConnect(), tls(pki.truststore(), Optional.of(pki.clientKeystore())));
        await().atMost(Duration.ofSeconds(15))
                .until(() -> agents.soleActive().equals(Optional.of("a"))
                        && agents.assignment().isPresent());
        Path conf = conf(tls(pki.truststore(), Optional.of(pki.clientKeystore())));

        Run metadata = Run.of("--conf", conf.toString(), "metadata");
        Run pause = Run.of("--conf", conf.toString(), "pause");

        assertTrue(
                agents.client("a")
                        .getZookeeperClient()
                        .getZooKeeper()
                        .getClientConfig()
                        .getBoolean(ZKClientConfig.SECURE_CLIENT),
                "the agent's client is a TLS client");
        assertEquals(0, metadata.code(), metadata::toString);
        assertTrue(metadata.out().contains("active controller    a"), metadata::toString);
        assertEquals(0, pause.code(), pause::toString);
        await().atMost(Duration.ofSeconds(10)).until(() -> new String(
                        agents.observer().getData().forPath(agents.paths().control()))
                .contains("\"paused\":true"));
    }

    @Test
    void serverCertificateFromAnotherCaIsRefusedWithTheReasonAndExit69() throws Exception {
        Path conf = conf(tls(pki.otherTruststore(), Optional.of(pki.clientKeystore())));

        Run run = Run.of("--conf", conf.toString(), "metadata");

        assertEquals(69, run.code(), run::toString);
        assertTrue(run.err().contains("cannot reach ZooKeeper at " + zk.tlsConnect()), run::toString);
        assertTrue(
                run.err()
                        .contains("the server's certificate is not signed by a CA in the truststore "
                                + pki.otherTruststore()),
                run::toString);
    }

    @Test
    void clientWithoutCertificateIsRefusedByAServerThatRequiresOne() throws Exception {
        // The server's own keystore is in this JVM's system properties now; the client must not use it.
        Path conf = conf(tls(pki.truststore(), Optional.empty()));

        Run run = Run.of("--conf", conf.toString(), "metadata");

        assertEquals(69, run.code(), run::toString);
        assertTrue(
                run.err().contains("it may require a client certificate, and asfc.zookeeper.client.keystore"),
                run::toString);
    }

    @Test
    void plainClientOnTheTlsPortIsUnreachable() throws Exception {
        Run run = Run.of("--conf", conf("").toString(), "metadata");

        assertEquals(69, run.code(), run::toString);
    }

    @Test
    void checkConfigShowsTlsAndAnOpenKeystoreButNoPassword() throws Exception {
        Files.setPosixFilePermissions(pki.clientKeystore(), PosixFilePermissions.fromString("rw-r--r--"));
        Path conf = conf(tls(pki.truststore(), Optional.of(pki.clientKeystore())));
        Path wrong = conf(tls(pki.truststore(), Optional.of(pki.clientKeystore()))
                + "asfc.zookeeper.client.keystore.password = \"not-" + pki.password() + "\"\n");

        Run ok = Run.of("--conf", conf.toString(), "check-config");
        Run bad = Run.of("--conf", wrong.toString(), "check-config");

        assertEquals(0, ok.code(), ok::toString);
        assertTrue(
                ok.out()
                        .contains("on, truststore " + pki.truststore() + " (pkcs12), keystore " + pki.clientKeystore()
                                + " (pkcs12), hostname verification on"),
                ok::toString);
        assertTrue(
                ok.err()
                        .contains("asfc-agent: warning: ZooKeeper keystore " + pki.clientKeystore()
                                + " (asfc.zookeeper.client.keystore.location) is readable by group/others (mode 0644);"
                                + " chmod 600 it"),
                ok::toString);
        assertEquals(78, bad.code(), bad::toString);
        assertTrue(
                bad.err().contains("cannot open " + pki.clientKeystore() + " as PKCS12: wrong password"),
                bad::toString);
        assertFalse((ok.toString() + bad).contains(pki.password()), "no password printed");
    }

    private String tls(Path truststore, Optional<Path> keystore) {
        return "asfc.zookeeper.client {\n"
                + "  secure = true\n"
                + "  truststore { location = \"" + truststore + "\", password = \"" + pki.password() + "\" }\n"
                + keystore.map(k -> "  keystore { location = \"" + k + "\", password = \"" + pki.password() + "\" }\n")
                        .orElse("")
                + "}\n";
    }

    private Path conf(String extra) throws Exception {
        Path file = Files.createTempFile(dir, "cli", ".conf");
        Files.writeString(
                file,
                """
                asfc {
                  node.id = b
                  nodes = [a, b]
                  zookeeper { connect = "%s", connection-timeout = 2s }
                  ssh.enabled = false
                }
                """
                                .formatted(zk.tlsConnect())
                        + extra);
        return file;
    }

    /** One in-process run of the command line. */
    private record Run(int code, String out, String err) {
        static Run of(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = io.asfc.agent.cli.AsfcCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Run(code, out.toString(), err.toString());
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }
}
