package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * A throwaway MIT Kerberos KDC (Debian's krb5-kdc and krb5-admin-server) for one realm, in a
 * directory of its own: its database, its kdc.conf and a krb5.conf for the clients, a krb5kdc
 * process on a free loopback port. Nothing of /etc/krb5.conf or /etc/krb5kdc is used or changed.
 */
final class Kdc implements AutoCloseable {
    static final Path KRB5KDC = Path.of("/usr/sbin/krb5kdc");
    private static final Path KDB5_UTIL = Path.of("/usr/sbin/kdb5_util");
    private static final Path KADMIN_LOCAL = Path.of("/usr/sbin/kadmin.local");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final Path dir;
    private final String realm;
    private final int port;
    private final Path krb5Conf;
    private final Map<String, String> environment;
    private Process process;

    private Kdc(Path dir, String realm, int port) {
        this.dir = dir;
        this.realm = realm;
        this.port = port;
        this.krb5Conf = dir.resolve("krb5.conf");
        this.environment = Map.of(
                "PATH", "/usr/sbin:/usr/bin:/sbin:/bin",
                "KRB5_CONFIG", krb5Conf.toString(),
                "KRB5_KDC_PROFILE", dir.resolve("kdc.conf").toString());
    }

    /** Whether Debian's krb5-kdc is installed (.ci/run installs it). */
    static boolean installed() {
        return Files.isExecutable(KRB5KDC);
    }

    /** Creates realm {@code realm}'s database under {@code dir} and starts its KDC. */
    static Kdc start(Path dir, String realm) throws IOException, InterruptedException {
        Kdc kdc = new Kdc(Files.createDirectories(dir), realm, Network.freePort());
        kdc.writeConfig();
        kdc.run(
                KDB5_UTIL.toString(),
                "create",
                "-s",
                "-r",
                realm,
                "-P",
                UUID.randomUUID().toString());
        try {
            kdc.start();
        } catch (IOException | RuntimeException | Error e) {
            kdc.stop();
            throw e;
        }
        return kdc;
    }

    private void writeConfig() throws IOException {
        // The clients' krb5.conf, as docs/CONFIGURATION.md shows it.
        Files.writeString(
                krb5Conf,
                """
                [libdefaults]
                  default_realm = %1$s
                  dns_lookup_realm = false
                  dns_lookup_kdc = false
                  rdns = false
                [realms]
                  %1$s = {
                    kdc = 127.0.0.1:%2$d
                  }
                [domain_realm]
                  localhost = %1$s
                """
                        .formatted(realm, port),
                StandardCharsets.UTF_8);
        Files.writeString(
                dir.resolve("kdc.conf"),
                """
                [kdcdefaults]
                  kdc_ports = %2$d
                  kdc_tcp_ports = %2$d
                [realms]
                  %1$s = {
                    database_name = %3$s/principal
                    key_stash_file = %3$s/stash
                    acl_file = %3$s/kadm5.acl
                    kdc_ports = %2$d
                    kdc_tcp_ports = %2$d
                  }
                [logging]
                  kdc = FILE:%3$s/kdc.log
                """
                        .formatted(realm, port, dir),
                StandardCharsets.UTF_8);
    }

    /** Starts krb5kdc (again, after {@link #stop()}) and waits until it accepts connections. */
    void start() throws IOException {
        ProcessBuilder builder = new ProcessBuilder(KRB5KDC.toString(), "-n", "-r", realm)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("krb5kdc.out").toFile()));
        builder.environment().clear();
        builder.environment().putAll(environment);
        process = builder.start();
        process.getOutputStream().close();
        Process started = process;
        try {
            await("krb5kdc on port " + port)
                    .atMost(START_TIMEOUT)
                    .pollInterval(Duration.ofMillis(50))
                    .ignoreExceptionsInstanceOf(IOException.class)
                    .failFast("krb5kdc exited", () -> !started.isAlive())
                    .until(this::accepts);
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new AssertionError("krb5kdc did not start\n" + logTail(), e);
        }
    }

    private boolean accepts() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        }
    }

    /** Stops krb5kdc: SIGTERM, then SIGKILL. The database stays for {@link #start()}. */
    void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Adds {@code principal} (with a random key) and exports its key to {@code keytab}. */
    Path addPrincipal(String principal, Path keytab) throws IOException, InterruptedException {
        run(KADMIN_LOCAL.toString(), "-r", realm, "-q", "addprinc -randkey " + principal);
        return exportKeytab(principal, keytab);
    }

    /** kadmin's ktadd: exports {@code principal}'s key to {@code keytab}, giving it a new random key first. */
    Path exportKeytab(String principal, Path keytab) throws IOException, InterruptedException {
        run(KADMIN_LOCAL.toString(), "-r", realm, "-q", "ktadd -k " + keytab + " " + principal);
        return keytab;
    }

    void deletePrincipal(String principal) throws IOException, InterruptedException {
        run(KADMIN_LOCAL.toString(), "-r", realm, "-q", "delprinc -force " + principal);
    }

    /** The clients' krb5.conf (java.security.krb5.conf). */
    Path krb5Conf() {
        return krb5Conf;
    }

    String logTail() {
        return "--- last lines of the KDC's log:\n" + Commands.tail(dir.resolve("kdc.log"), 20)
                + "--- last lines of krb5kdc's output:\n" + Commands.tail(dir.resolve("krb5kdc.out"), 10);
    }

    private void run(String... command) throws IOException, InterruptedException {
        CommandResult result = Commands.run(List.of(command), dir, environment, COMMAND_TIMEOUT);
        assertEquals(0, result.exitCode(), result::describe);
        // kadmin.local -q exits 0 even when the query fails; it says so on stderr
        if (result.stderr().contains("while ") || result.stderr().contains("error")) {
            throw new AssertionError(result.describe());
        }
    }

    @Override
    public void close() {
        stop();
    }
}
