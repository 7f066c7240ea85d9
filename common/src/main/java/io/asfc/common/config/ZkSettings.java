package io.asfc.common.config;

import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.Modes.AuthScheme;
import io.asfc.common.config.Modes.StoreType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@code asfc.zookeeper}. */
public record ZkSettings(
        String connect,
        String root,
        Duration sessionTimeout,
        Duration connectionTimeout,
        Duration selfFenceAfter,
        AuthScheme authScheme,
        String authUser,
        Secret authPassword,
        Sasl sasl,
        AclMode acl,
        Embedded embedded,
        Client client) {

    public static final String EMBEDDED = "embedded";

    public boolean isEmbedded() {
        return EMBEDDED.equals(connect);
    }

    /** Whether the client authenticates: with SASL, or with digest when a user is set. */
    public boolean hasAuth() {
        return isSasl() || !authUser.isEmpty();
    }

    public boolean isSasl() {
        return authScheme == AuthScheme.SASL;
    }

    /** The connect string clients use: the embedded server's address when embedded. */
    public String effectiveConnect() {
        return isEmbedded() ? embedded.bind() + ":" + embedded.port() : connect;
    }

    /**
     * {@code asfc.zookeeper.auth} with {@code scheme = sasl}: the client logs in with a section of a JAAS
     * login configuration file (DIGEST-MD5 user and password, or a Kerberos principal and keytab).
     *
     * @param jaasFile the JAAS file; present when the scheme is sasl and the config is valid
     * @param section the name of the file's login section the client uses
     * @param kerberosServiceName the first part of the servers' Kerberos principal (ZooKeeper's {@code
     *     zookeeper.sasl.client.username})
     */
    public record Sasl(Optional<Path> jaasFile, String section, String kerberosServiceName) {
        public static Sasl none() {
            return new Sasl(Optional.empty(), "Client", "zookeeper");
        }
    }

    /** {@code asfc.zookeeper.embedded}. */
    public record Embedded(String bind, int port, Path dataDir) {}

    /**
     * {@code asfc.zookeeper.client}: TLS to the servers' {@code secureClientPort} when {@code secure}.
     *
     * @param truststore the CA certificates that sign the servers' certificates; present when secure
     * @param keystore this client's certificate and key, for servers that require one
     */
    public record Client(
            boolean secure, Optional<Store> keystore, Optional<Store> truststore, boolean hostnameVerification) {

        public static Client plain() {
            return new Client(false, Optional.empty(), Optional.empty(), true);
        }
    }

    /** A key or trust store file, with its type resolved (from the file name unless set). */
    public record Store(Path location, Secret password, StoreType type) {}
}
