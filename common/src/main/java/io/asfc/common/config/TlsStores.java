package io.asfc.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.Locale;
import org.apache.zookeeper.common.X509Util;

/**
 * Opens the ZooKeeper client's key and trust stores at startup, with ZooKeeper's own loader, so that
 * a missing file, a wrong password or a wrong type is a configuration problem naming the file,
 * instead of a TLS client that silently never connects. No message holds a password.
 */
final class TlsStores {
    private static final String CLIENT = "asfc.zookeeper.client";

    private TlsStores() {}

    static void check(ConfigReader r, ZkSettings zk) {
        ZkSettings.Client client = zk.client();
        if (!client.secure()) {
            return;
        }
        if (zk.isEmbedded()) {
            r.problem(
                    CLIENT + ".secure",
                    "the embedded ZooKeeper serves no TLS; set secure = false or connect to an ensemble");
        }
        if (client.truststore().isEmpty()) {
            if (!r.hasProblem(CLIENT + ".truststore.location")) {
                r.problem(
                        CLIENT + ".truststore.location",
                        "is required when secure = true: the CA certificates that sign the servers' certificates");
            }
        } else {
            open(r, CLIENT + ".truststore", client.truststore().get(), false);
        }
        client.keystore().ifPresent(store -> open(r, CLIENT + ".keystore", store, true));
    }

    private static void open(ConfigReader r, String key, ZkSettings.Store store, boolean needsKey) {
        String file = store.location().toString();
        String type = store.type().name();
        if (r.hasProblem(key + ".location", key + ".password", key + ".password-file", key + ".type")) {
            return;
        }
        if (!Files.isRegularFile(store.location()) || !Files.isReadable(store.location())) {
            r.problem(key + ".location", file + " does not exist or is not readable");
            return;
        }
        String password = store.password().reveal();
        try {
            KeyStore ks = needsKey
                    ? X509Util.loadKeyStore(file, password, type)
                    : X509Util.loadTrustStore(file, password, type);
            if (needsKey) {
                checkPrivateKey(r, key, file, type, ks, password);
            } else if (!hasCertificate(ks)) {
                r.problem(key + ".location", file + " holds no certificate" + readAs(type, key));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            r.problem(key + ".location", cannotOpen(file, type, key, e));
        }
    }

    private static void checkPrivateKey(
            ConfigReader r, String key, String file, String type, KeyStore ks, String password)
            throws GeneralSecurityException {
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(alias)) {
                try {
                    ks.getKey(alias, password.toCharArray());
                } catch (UnrecoverableKeyException e) {
                    r.problem(
                            key + ".location",
                            file + ": the private key '" + alias + "' has a password other than the store's;"
                                    + " ZooKeeper needs them to be the same");
                }
                return;
            }
        }
        r.problem(key + ".location", file + " holds no private key" + readAs(type, key));
    }

    private static String readAs(String type, String key) {
        return " (read as " + type + "; if that is not its type, set " + key + ".type)";
    }

    private static boolean hasCertificate(KeyStore ks) throws GeneralSecurityException {
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isCertificateEntry(alias) || ks.getCertificate(alias) != null) {
                return true;
            }
        }
        return false;
    }

    private static String cannotOpen(String file, String type, String key, Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String detail = String.valueOf(root.getMessage());
        if (root instanceof UnrecoverableKeyException
                || detail.toLowerCase(Locale.ROOT).contains("password")) {
            return "cannot open " + file + " as " + type + ": wrong password (" + key + ".password)";
        }
        return "cannot open " + file + " as " + type + " (is that its type? set " + key + ".type): "
                + root.getClass().getSimpleName() + ": " + detail;
    }
}
