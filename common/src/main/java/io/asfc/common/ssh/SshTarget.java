package io.asfc.common.ssh;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.SshSettings;

/** Where one node is reached over SSH; built only from the local config (S5). */
public record SshTarget(String node, String host, String user, int port) {

    public static SshTarget of(AsfcSettings settings, String node) {
        SshSettings.HostOverride target = settings.ssh().target(node);
        return new SshTarget(node, settings.hostOf(node), target.user(), target.port());
    }

    @Override
    public String toString() {
        return user + "@" + host + ":" + port;
    }
}
