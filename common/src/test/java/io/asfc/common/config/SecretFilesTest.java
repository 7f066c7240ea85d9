package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Permission warnings for files that hold private keys or passwords. */
class SecretFilesTest {
    @TempDir
    Path dir;

    @Test
    void warnsAboutKeyAndPasswordFilesThatGroupOrOthersMayRead() throws IOException {
        Path openKey = file("id_ed25519", "rw-r--r--");
        Path closedKey = file("id_rsa", "rw-------");
        Path groupPassword = file("zk.password", "rw-r-----");
        Path ownPassword = file("ssh.passphrase", "r--------");
        Path conf = conf(
                """
                asfc {
                  zookeeper { connect = "zk:2181", auth { user = asfc, password-file = "%s" } }
                  ssh { identity-files = ["%s", "%s"], passphrase-file = "%s" }
                }
                """
                        .formatted(groupPassword, openKey, closedKey, ownPassword));

        List<String> warnings = SecretFiles.permissionWarnings(load(conf));

        assertEquals(
                List.of(
                        "ssh identity file " + openKey + " is readable by group/others (mode 0644); chmod 600 it",
                        "password file " + groupPassword + " (asfc.zookeeper.auth.password-file) is readable by"
                                + " group/others (mode 0640); chmod 600 it"),
                warnings);
    }

    @Test
    void identityFilesCountOnlyWhenSshIsEnabled() throws IOException {
        Path openKey = file("id_ed25519", "rw-r--r--");
        Path conf = conf(
                """
                asfc {
                  zookeeper.connect = "zk:2181"
                  ssh { enabled = false, identity-files = ["%s"] }
                }
                """
                        .formatted(openKey));

        assertEquals(List.of(), SecretFiles.permissionWarnings(load(conf)));
    }

    @Test
    void modeIsPrintedInOctal() {
        assertEquals("0751", SecretFiles.octal(PosixFilePermissions.fromString("rwxr-x--x")));
        assertEquals("0000", SecretFiles.octal(PosixFilePermissions.fromString("---------")));
    }

    private AsfcSettings load(Path conf) {
        return new SettingsLoader(dir, () -> "host-a").load(conf);
    }

    private Path file(String name, String mode) throws IOException {
        Path file = Files.writeString(dir.resolve(name), "not-a-real-secret\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private Path conf(String text) throws IOException {
        return Files.writeString(dir.resolve("asfc.conf"), text);
    }
}
