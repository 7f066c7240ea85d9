package io.asfc.common.config;

import io.asfc.common.config.Modes.AclMode;
import java.nio.file.Path;
import java.time.Duration;

/** {@code asfc.zookeeper}. */
public record ZkSettings(
        String connect,
        String root,
        Duration sessionTimeout,
        Duration connectionTimeout,
        Duration selfFenceAfter,
        String authScheme,
        String authUser,
        Secret authPassword,
        AclMode acl,
        Embedded embedded) {

    public static final String EMBEDDED = "embedded";

    public boolean isEmbedded() {
        return EMBEDDED.equals(connect);
    }

    public boolean hasAuth() {
        return !authUser.isEmpty();
    }

    /** The connect string clients use: the embedded server's address when embedded. */
    public String effectiveConnect() {
        return isEmbedded() ? embedded.bind() + ":" + embedded.port() : connect;
    }

    /** {@code asfc.zookeeper.embedded}. */
    public record Embedded(String bind, int port, Path dataDir) {}
}
