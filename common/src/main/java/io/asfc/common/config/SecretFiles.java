package io.asfc.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The files of a configuration that hold secrets: private keys (SSH identity files, the ZooKeeper
 * keystore), the JAAS file of ZooKeeper SASL, and the files of secrets given as {@code <key>-file}. Each should be readable by its
 * owner only; the agent warns at start, and {@code check-config} shows, when one is not.
 */
public final class SecretFiles {
    private SecretFiles() {}

    /** One warning per file that group or others may read; none on file systems without POSIX modes. */
    public static List<String> permissionWarnings(AsfcSettings s) {
        Map<Path, String> files = new LinkedHashMap<>();
        if (s.ssh().enabled()) {
            s.ssh().identityFiles().forEach(key -> files.putIfAbsent(key, "ssh identity file " + key));
        }
        ZkSettings.Client tls = s.zookeeper().client();
        if (tls.secure()) {
            tls.keystore()
                    .ifPresent(store -> files.putIfAbsent(
                            store.location(),
                            "ZooKeeper keystore " + store.location() + " (asfc.zookeeper.client.keystore.location)"));
        }
        if (s.zookeeper().isSasl()) {
            s.zookeeper()
                    .sasl()
                    .jaasFile()
                    .ifPresent(jaas -> files.putIfAbsent(
                            jaas, "JAAS file " + jaas + " (asfc.zookeeper.auth.jaas-file; a password or keytab path)"));
        }
        secretFile(files, s.zookeeper().authPassword(), "password", "asfc.zookeeper.auth.password-file");
        tls.keystore()
                .ifPresent(k ->
                        secretFile(files, k.password(), "password", "asfc.zookeeper.client.keystore.password-file"));
        tls.truststore()
                .ifPresent(t ->
                        secretFile(files, t.password(), "password", "asfc.zookeeper.client.truststore.password-file"));
        secretFile(files, s.ssh().passphrase(), "passphrase", "asfc.ssh.passphrase-file");
        secretFile(files, s.alerts().email().smtp().password(), "password", "asfc.alerts.email.smtp.password-file");
        List<String> warnings = new ArrayList<>();
        files.forEach((file, what) -> warning(what, file).ifPresent(warnings::add));
        return warnings;
    }

    private static void secretFile(Map<Path, String> files, Secret secret, String kind, String key) {
        secret.file().ifPresent(file -> files.putIfAbsent(file, kind + " file " + file + " (" + key + ")"));
    }

    /** The warning for one file, when group or others may read it. */
    static Optional<String> warning(String what, Path file) {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return Optional.empty(); // not a POSIX file system: there is no mode to judge
        } catch (IOException e) {
            return Optional.empty(); // missing or unreadable: validation reports that, or its user will
        }
        if (!permissions.contains(PosixFilePermission.GROUP_READ)
                && !permissions.contains(PosixFilePermission.OTHERS_READ)) {
            return Optional.empty();
        }
        return Optional.of(what + " is readable by group/others (mode " + octal(permissions) + "); chmod 600 it");
    }

    static String octal(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            // OWNER_READ is the first constant and the highest bit: 0400
            mode |= 0400 >> p.ordinal();
        }
        return String.format("%04o", mode);
    }
}
