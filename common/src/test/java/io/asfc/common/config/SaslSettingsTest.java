package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.Modes.AuthScheme;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code asfc.zookeeper.auth} with {@code scheme = sasl}: the JAAS file and section, checked at startup. */
class SaslSettingsTest {
    private static final String CONNECT = "asfc.zookeeper.connect = \"zk1:2181,zk2:2181\"\n";
    private static final String PASSWORD = "jaas-Secret-pw";
    private static final String JAAS =
            """
            AsfcAgent {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              username="asfc"
              password="%s";
            };
            """
                    .formatted(PASSWORD);

    @TempDir
    Path dir;

    private SettingsLoader loader() {
        return new SettingsLoader(dir, () -> "host-a");
    }

    @Test
    void digestIsTheDefaultAndNeedsNoJaasFile() throws IOException {
        ZkSettings zk = loader().load(write(CONNECT)).zookeeper();

        assertEquals(AuthScheme.DIGEST, zk.authScheme());
        assertFalse(zk.hasAuth());
        assertEquals(Optional.empty(), zk.sasl().jaasFile());
        assertEquals("Client", zk.sasl().section());
        assertEquals("zookeeper", zk.sasl().kerberosServiceName());
    }

    @Test
    void saslReadsTheJaasFileAndSectionAndAllowsCreatorAcl() throws IOException {
        Files.writeString(dir.resolve("jaas.conf"), JAAS);

        ZkSettings zk = loader().load(write(CONNECT
                        + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = AsfcAgent }\n"
                        + "asfc.zookeeper.acl = creator\n"))
                .zookeeper();

        assertTrue(zk.isSasl());
        assertTrue(zk.hasAuth());
        assertEquals(AclMode.CREATOR, zk.acl());
        assertEquals(Optional.of(dir.resolve("jaas.conf")), zk.sasl().jaasFile());
        assertEquals("AsfcAgent", zk.sasl().section());
    }

    @Test
    void aJaasFileThatOthersMayReadIsWarnedAbout() throws IOException {
        Path jaas = Files.writeString(dir.resolve("jaas.conf"), JAAS);
        Files.setPosixFilePermissions(jaas, PosixFilePermissions.fromString("rw-r--r--"));
        AsfcSettings s = loader().load(write(
                CONNECT + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = AsfcAgent }\n"));

        assertEquals(
                List.of("JAAS file " + jaas + " (asfc.zookeeper.auth.jaas-file; a password or keytab path) is"
                        + " readable by group/others (mode 0644); chmod 600 it"),
                SecretFiles.permissionWarnings(s));
    }

    @Test
    void saslNeedsAJaasFile() throws IOException {
        ConfigProblem p = single(write(CONNECT + "asfc.zookeeper.auth.scheme = sasl\n"));

        assertEquals("asfc.zookeeper.auth.jaas-file", p.key());
        assertTrue(p.message().contains("required"), p.message());
    }

    @Test
    void aMissingJaasFileIsAProblem() throws IOException {
        ConfigProblem p =
                single(write(CONNECT + "asfc.zookeeper.auth { scheme = sasl, jaas-file = /nonexistent/jaas.conf }\n"));

        assertEquals("asfc.zookeeper.auth.jaas-file", p.key());
        assertEquals("/nonexistent/jaas.conf does not exist or is not readable", p.message());
    }

    @Test
    void aSectionTheFileLacksIsAProblemThatQuotesNothingOfTheFile() throws IOException {
        Files.writeString(dir.resolve("jaas.conf"), JAAS);

        ConfigProblem p = single(write(
                CONNECT + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = Client }\n"));

        assertEquals("asfc.zookeeper.auth.jaas-section", p.key());
        assertEquals("names 'Client', which " + dir.resolve("jaas.conf") + " has no section for", p.message());
    }

    @Test
    void anUnparsableJaasFileIsAProblemWithoutItsContent() throws IOException {
        Files.writeString(dir.resolve("jaas.conf"), "AsfcAgent { password=\"" + PASSWORD + "\" oops\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader().load(write(
                CONNECT + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = AsfcAgent }\n")));

        assertEquals(1, e.problems().size(), e.getMessage());
        assertEquals("asfc.zookeeper.auth.jaas-file", e.problems().get(0).key());
        assertTrue(e.getMessage().contains("is not a valid JAAS login configuration"), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
    }

    @Test
    void saslTakesNoDigestUserAndNoEmbeddedServer() throws IOException {
        Files.writeString(dir.resolve("jaas.conf"), JAAS);

        InvalidConfigException e = assertThrows(
                InvalidConfigException.class, () -> loader().load(write("asfc.zookeeper.connect = embedded\n"
                        + "asfc.zookeeper.auth { scheme = sasl, jaas-file = jaas.conf, jaas-section = AsfcAgent,"
                        + " user = asfc }\n")));

        assertEquals(2, e.problems().size(), e.getMessage());
        assertEquals("asfc.zookeeper.auth.scheme", e.problems().get(0).key());
        assertEquals("asfc.zookeeper.auth.user", e.problems().get(1).key());
    }

    @Test
    void aJaasFileWithDigestIsAProblem() throws IOException {
        ConfigProblem p = single(write(CONNECT + "asfc.zookeeper.auth.jaas-file = jaas.conf\n"));

        assertEquals("asfc.zookeeper.auth.jaas-file", p.key());
        assertEquals("is only for auth.scheme = sasl; the scheme is digest", p.message());
    }

    @Test
    void anUnknownSchemeListsTheKnownOnes() throws IOException {
        ConfigProblem p = single(write(CONNECT + "asfc.zookeeper.auth.scheme = kerberos\n"));

        assertEquals("asfc.zookeeper.auth.scheme", p.key());
        assertTrue(p.message().contains("digest | sasl"), p.message());
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
