package io.asfc.it.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The proving ground's SSH keys: one client key that every agent logs in with (root's {@code authorized_keys} on
 * every host), and one host key per host, listed by address in a {@code known_hosts} that the agents check.
 */
final class Keys {

    private final Path dir;

    private Keys(Path dir) {
        this.dir = dir;
    }

    static Keys generate(Path dir) throws IOException {
        Keys keys = new Keys(Files.createDirectories(dir));
        keygen(keys.clientKey());
        Files.writeString(keys.authorizedKeys(), publicKey(keys.clientKey()) + "\n");
        Files.writeString(keys.knownHosts(), "");
        return keys;
    }

    Path clientKey() {
        return dir.resolve("client_key");
    }

    Path authorizedKeys() {
        return dir.resolve("authorized_keys");
    }

    Path knownHosts() {
        return dir.resolve("known_hosts");
    }

    /** Generates {@code hostKey} unless it exists (a rebooted host keeps its key), and lists it for {@code address}. */
    synchronized void hostKey(Path hostKey, String address) throws IOException {
        if (!Files.exists(hostKey)) {
            keygen(hostKey);
            Files.writeString(
                    knownHosts(), address + " " + publicKey(hostKey) + "\n", java.nio.file.StandardOpenOption.APPEND);
        }
    }

    private static void keygen(Path key) {
        Sh.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "asfc-proving-ground", "-f", key.toString());
    }

    /** {@code ssh-ed25519 <base64>}, without the comment. */
    private static String publicKey(Path privateKey) throws IOException {
        String[] words = Files.readString(Path.of(privateKey + ".pub")).strip().split("\\s+");
        return words[0] + " " + words[1];
    }
}
