package io.asfc.common.config;

import io.asfc.common.config.Modes.HostKeyChecking;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** {@code asfc.ssh}. */
public record SshSettings(
        boolean enabled,
        String user,
        int port,
        List<Path> identityFiles,
        Secret passphrase,
        Path knownHosts,
        HostKeyChecking strictHostKeyChecking,
        Duration connectTimeout,
        Duration commandTimeout,
        Duration keepaliveInterval,
        Map<String, HostOverride> hosts) {

    /** A per-node override of user and port. */
    public record HostOverride(String user, int port) {}

    /** The user and port to use for one node. */
    public HostOverride target(String node) {
        return hosts.getOrDefault(node, new HostOverride(user, port));
    }
}
