package io.asfc.common.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.URIParameter;
import java.util.Optional;
import javax.security.auth.login.Configuration;

/**
 * Checks {@code asfc.zookeeper.auth} for {@code scheme = sasl}: the JAAS file is read at startup with
 * the JDK's own parser, in an instance of its own (the JVM-wide JAAS configuration is left alone), so
 * that a missing file or section is a configuration problem instead of a client that silently
 * connects without SASL. No message quotes the file's content: it holds a password or a keytab path.
 */
final class JaasCheck {
    private static final String AUTH = "asfc.zookeeper.auth";
    private static final String JAAS_FILE = AUTH + ".jaas-file";
    private static final String JAAS_SECTION = AUTH + ".jaas-section";

    private JaasCheck() {}

    static void check(ConfigReader r, ZkSettings zk) {
        ZkSettings.Sasl sasl = zk.sasl();
        if (!zk.isSasl()) {
            if (sasl.jaasFile().isPresent()) {
                r.problem(JAAS_FILE, "is only for auth.scheme = sasl; the scheme is digest");
            }
            return;
        }
        if (zk.isEmbedded()) {
            r.problem(
                    AUTH + ".scheme",
                    "the embedded ZooKeeper does not authenticate with SASL; use digest or connect to an ensemble");
        }
        if (!zk.authUser().isEmpty() || !zk.authPassword().isEmpty()) {
            r.problem(
                    AUTH + ".user",
                    "auth.user and auth.password are for scheme = digest; with sasl the identity is the one"
                            + " of the JAAS section (jaas-section)");
        }
        if (sasl.section().isEmpty()) {
            r.problem(JAAS_SECTION, "is required when auth.scheme = sasl (e.g. Client)");
        }
        if (sasl.kerberosServiceName().isEmpty()) {
            r.problem(AUTH + ".kerberos-service-name", "must not be empty (ZooKeeper's default is zookeeper)");
        }
        if (sasl.jaasFile().isEmpty()) {
            if (!r.hasProblem(JAAS_FILE)) {
                r.problem(JAAS_FILE, "is required when auth.scheme = sasl: the JAAS login configuration file");
            }
            return;
        }
        Path file = sasl.jaasFile().get();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            r.problem(JAAS_FILE, file + " does not exist or is not readable");
            return;
        }
        Optional<Configuration> jaas = parse(file);
        if (jaas.isEmpty()) {
            r.problem(
                    JAAS_FILE,
                    file + " is not a valid JAAS login configuration (details withheld: it may hold a"
                            + " password; see https://docs.oracle.com/en/java/javase/17/security/"
                            + "appendix-b-jaas-login-configuration-file.html)");
        } else if (!sasl.section().isEmpty() && jaas.get().getAppConfigurationEntry(sasl.section()) == null) {
            r.problem(JAAS_SECTION, "names '" + sasl.section() + "', which " + file + " has no section for");
        }
    }

    /** The file as the JDK reads a JAAS configuration; empty when it does not parse. */
    private static Optional<Configuration> parse(Path file) {
        try {
            return Optional.of(Configuration.getInstance("JavaLoginConfig", new URIParameter(file.toUri())));
        } catch (NoSuchAlgorithmException | SecurityException | IllegalArgumentException e) {
            // the JDK's parse error quotes the offending token, which may be the password
            return Optional.empty();
        }
    }
}
