package io.asfc.agent.zk;

import java.io.IOException;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.URIParameter;
import java.util.Arrays;
import java.util.Optional;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.zookeeper.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@code asfc.zookeeper.auth.jaas-file} the JVM's JAAS login configuration. JAAS is JVM-wide:
 * ZooKeeper's SASL client logs in through {@link Configuration#getConfiguration()}, which the JDK
 * reads from the file named by {@code java.security.auth.login.config}. So the agent sets that
 * property itself before its first ZooKeeper client, instead of asking for a JVM flag. The file's
 * content is never logged: it holds a password or a keytab path.
 */
final class JaasConfig {
    private static final Logger LOG = LoggerFactory.getLogger(JaasConfig.class);

    private JaasConfig() {}

    /** Installs {@code file} unless it already is the JVM's JAAS configuration. */
    static synchronized void install(Path file) {
        String wanted = file.toString();
        String current = System.getProperty(Environment.JAAS_CONF_KEY);
        if (wanted.equals(current)) {
            return;
        }
        if (current != null) {
            LOG.warn(
                    "asfc.zookeeper.auth.jaas-file {} replaces the JAAS configuration {} that the JVM was given",
                    wanted,
                    current);
        }
        System.setProperty(Environment.JAAS_CONF_KEY, wanted);
        // the JDK reads the file once; make it read the new one if something already loaded a configuration
        Configuration.getConfiguration().refresh();
        LOG.info("JAAS login configuration for ZooKeeper SASL: {}", wanted);
    }

    /**
     * Whether {@code section} of {@code file} logs in with Kerberos; if not, ZooKeeper's client uses
     * DIGEST-MD5 (it picks the mechanism by the logged-in subject: a Kerberos principal or none).
     */
    static boolean usesKerberos(Path file, String section) {
        try {
            AppConfigurationEntry[] entries = Configuration.getInstance(
                            "JavaLoginConfig", new URIParameter(file.toUri()))
                    .getAppConfigurationEntry(section);
            return entries != null
                    && Arrays.stream(entries)
                            .anyMatch(e -> e.getLoginModuleName().endsWith(".Krb5LoginModule"));
        } catch (NoSuchAlgorithmException | SecurityException | IllegalArgumentException e) {
            // the file was checked at startup (a configuration error); if it changed since, the login
            // reports it; assume Kerberos so that ZooKeeper's FIPS mode stays as it is
            return true;
        }
    }

    /**
     * Why a Kerberos login with {@code section} of {@code file} fails, as the JDK says it (e.g.
     * "Client not found in Kerberos database (6)", "Pre-authentication information was invalid
     * (24)", "Connection refused"); empty when the section does not use Kerberos or the login
     * succeeds now. ZooKeeper's client logs its own login failure only at WARN under
     * org.apache.zookeeper.ClientCnxn, which asfc's logback.xml keeps at ERROR (its reconnect noise),
     * so asfc logs in once more to say why. Only for Krb5LoginModule, whose messages hold no secret.
     */
    static Optional<String> kerberosLoginFailure(Path file, String section) {
        if (!usesKerberos(file, section)) {
            return Optional.empty();
        }
        boolean[] askedForPassword = {false};
        try {
            LoginContext login = new LoginContext(
                    section,
                    new Subject(),
                    callbacks -> {
                        askedForPassword[0] = true;
                        throw new UnsupportedCallbackException(callbacks.length > 0 ? callbacks[0] : (Callback) null);
                    },
                    Configuration.getConfiguration());
            login.login();
            login.logout();
            return Optional.empty();
        } catch (LoginException | SecurityException e) {
            if (askedForPassword[0]) {
                // Krb5LoginModule asks for a password when the keytab gave it no key
                return Optional.of("the keytab holds no key of the principal (a missing or unreadable keytab file,"
                        + " or one for another principal)");
            }
            String message =
                    e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof IOException) {
                    // Krb5LoginModule's only I/O is its exchange with the KDC (an unreadable keytab asks for a
                    // password)
                    return Optional.of("no answer from the KDC (the realm's kdc in krb5.conf): " + cause);
                }
            }
            return Optional.of(message);
        }
    }
}
