package io.asfc.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for TLS tests, made at test time with the JDK's keytool: a CA, a server certificate
 * for {@code localhost} and {@code 127.0.0.1} and a client certificate, both signed by it, and a
 * second CA that signs neither. Every store is PKCS12; the server's stores have one random password
 * and the client's stores another, so that a test can tell the client's secrets from the server's.
 * Each certificate is valid for two days.
 */
public final class TestPki {
    private static final Path KEYTOOL = Path.of(System.getProperty("java.home"), "bin", "keytool");
    private static final long KEYTOOL_TIMEOUT_S = 60;

    private final Path dir;
    private final String serverPassword = "pki-server-" + UUID.randomUUID();
    private final String clientPassword = "pki-client-" + UUID.randomUUID();

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** Makes every store in {@code dir}: a few seconds of keytool runs, two at a time. */
    public static TestPki create(Path dir) {
        TestPki pki = new TestPki(dir);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> pki.ca("other-ca"), pool);
            pki.ca("ca");
            CompletableFuture<Void> server = CompletableFuture.runAsync(
                    () -> {
                        pki.leaf("server", "localhost", pki.serverPassword);
                        pki.trust("ca", "server-trust.p12", pki.serverPassword);
                    },
                    pool);
            pki.leaf("client", "asfc-agent", pki.clientPassword);
            CompletableFuture.allOf(other, server).join();
        } finally {
            pool.shutdownNow();
        }
        return pki;
    }

    /** The password of the client's stores: truststore, otherTruststore and clientKeystore. */
    public String password() {
        return clientPassword;
    }

    /** The password of the server's stores. */
    public String serverPassword() {
        return serverPassword;
    }

    /** The CA's certificate: what clients trust. */
    public Path truststore() {
        return dir.resolve("ca-trust.p12");
    }

    /** Another CA's certificate, which signed none of ours. */
    public Path otherTruststore() {
        return dir.resolve("other-ca-trust.p12");
    }

    public Path clientKeystore() {
        return dir.resolve("client.p12");
    }

    /** The CA's certificate again, with the server's password: what the server trusts. */
    public Path serverTruststore() {
        return dir.resolve("server-trust.p12");
    }

    public Path serverKeystore() {
        return dir.resolve("server.p12");
    }

    /** A CA in {@code name}.p12 (server password); its certificate in {@code name}-trust.p12 (client password). */
    private void ca(String name) {
        String pw = serverPassword;
        keytool(
                "-genkeypair",
                "-alias",
                name,
                "-dname",
                "CN=asfc test " + name,
                "-ext",
                "bc:c",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "2",
                "-keystore",
                file(name + ".p12"),
                "-storetype",
                "PKCS12",
                "-storepass",
                pw,
                "-keypass",
                pw);
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                name,
                "-keystore",
                file(name + ".p12"),
                "-storepass",
                pw,
                "-file",
                file(name + ".pem"));
        trust(name, name + "-trust.p12", clientPassword);
    }

    private void trust(String ca, String store, String pw) {
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                ca,
                "-file",
                file(ca + ".pem"),
                "-keystore",
                file(store),
                "-storetype",
                "PKCS12",
                "-storepass",
                pw);
    }

    private void leaf(String name, String commonName, String pw) {
        String store = file(name + ".p12");
        keytool(
                "-genkeypair",
                "-alias",
                name,
                "-dname",
                "CN=" + commonName,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "2",
                "-keystore",
                store,
                "-storetype",
                "PKCS12",
                "-storepass",
                pw,
                "-keypass",
                pw);
        keytool("-certreq", "-alias", name, "-keystore", store, "-storepass", pw, "-file", file(name + ".csr"));
        keytool(
                "-gencert",
                "-alias",
                "ca",
                "-keystore",
                file("ca.p12"),
                "-storepass",
                serverPassword,
                "-infile",
                file(name + ".csr"),
                "-outfile",
                file(name + ".pem"),
                "-rfc",
                "-validity",
                "2",
                "-ext",
                "SAN=dns:localhost,ip:127.0.0.1",
                "-ext",
                "EKU=serverAuth,clientAuth");
        try {
            Files.writeString(
                    dir.resolve(name + "-chain.pem"),
                    Files.readString(dir.resolve(name + ".pem")) + Files.readString(dir.resolve("ca.pem")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                name,
                "-file",
                file(name + "-chain.pem"),
                "-keystore",
                store,
                "-storepass",
                pw);
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private static void keytool(String... args) {
        List<String> command = new ArrayList<>(
                List.of(KEYTOOL.toString(), "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-Xshare:auto"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(KEYTOOL_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " did not finish in " + KEYTOOL_TIMEOUT_S + "s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("keytool " + String.join(" ", args) + " failed with exit "
                        + p.exitValue() + ": " + new String(output, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + KEYTOOL, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }
}
