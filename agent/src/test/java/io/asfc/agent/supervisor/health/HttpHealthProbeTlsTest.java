package io.asfc.agent.supervisor.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.asfc.agent.supervisor.health.HealthResult.Status;
import io.asfc.common.config.Modes.HealthFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpHealthProbeTlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    static Path dir;

    /** CN=localhost, valid for 127.0.0.1. */
    private static Path localKeys;

    private static Path localPem;

    /** Valid only for elsewhere.example. */
    private static Path elsewhereKeys;

    private static Path elsewherePem;

    private HttpsServer server;

    @BeforeAll
    static void generateSelfSignedCertificates() throws Exception {
        localKeys = dir.resolve("local.p12");
        localPem = dir.resolve("local.pem");
        selfSigned(localKeys, localPem, "CN=localhost", "SAN=ip:127.0.0.1,dns:localhost");
        elsewhereKeys = dir.resolve("elsewhere.p12");
        elsewherePem = dir.resolve("elsewhere.pem");
        selfSigned(elsewhereKeys, elsewherePem, "CN=elsewhere.example", "SAN=dns:elsewhere.example");
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void selfSignedCertificateIsUnreachableWithoutCaFile() throws Exception {
        URI url = serveHttps(localKeys);

        HealthResult result = probe(url, Optional.empty()).check();

        assertEquals(Status.UNREACHABLE, result.status());
        assertTrue(result.detail().startsWith("TLS: "), result.detail());
    }

    @Test
    void selfSignedCertificateIsHealthyWhenTheCaFileTrustsIt() throws Exception {
        URI url = serveHttps(localKeys);

        HealthResult result = probe(url, Optional.of(localPem)).check();

        assertEquals(new HealthResult(Status.HEALTHY, "HTTP 200"), result);
    }

    @Test
    void everyCertificateOfACaFileIsTrusted() throws Exception {
        Path both = dir.resolve("both.pem");
        Files.write(both, concat(Files.readAllBytes(elsewherePem), Files.readAllBytes(localPem)));
        URI url = serveHttps(localKeys);

        HealthResult result = probe(url, Optional.of(both)).check();

        assertEquals(Status.HEALTHY, result.status(), result.detail());
    }

    @Test
    void hostNameIsVerifiedEvenForACertificateTheCaFileTrusts() throws Exception {
        URI url = serveHttps(elsewhereKeys);

        HealthResult result = probe(url, Optional.of(elsewherePem)).check();

        assertEquals(Status.UNREACHABLE, result.status());
        assertTrue(result.detail().startsWith("TLS: "), result.detail());
        assertTrue(result.detail().contains("127.0.0.1"), result.detail());
    }

    @Test
    void missingCaFileIsRejectedNamingIt() {
        Path missing = dir.resolve("no-such-ca.pem");

        HealthProbeConfigException e = assertThrows(
                HealthProbeConfigException.class, () -> probe(URI.create("https://127.0.0.1/"), Optional.of(missing)));

        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void caFileWithoutCertificatesIsRejectedNamingIt() throws IOException {
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");

        HealthProbeConfigException e = assertThrows(
                HealthProbeConfigException.class, () -> probe(URI.create("https://127.0.0.1/"), Optional.of(garbage)));

        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
    }

    @Test
    void emptyCaFileIsRejectedNamingIt() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.pem"));

        HealthProbeConfigException e = assertThrows(
                HealthProbeConfigException.class, () -> probe(URI.create("https://127.0.0.1/"), Optional.of(empty)));

        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
    }

    private static HttpHealthProbe probe(URI url, Optional<Path> caFile) {
        return new HttpHealthProbe(url, HealthFormat.STATUS_CODE, TIMEOUT, caFile);
    }

    private URI serveHttps(Path keys) throws IOException, GeneralSecurityException {
        KeyStore store = load(keys);
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, PASSWORD);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(factory.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/health", exchange -> {
            byte[] body = "OK".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/health");
    }

    /** Generates a key pair with keytool and writes its certificate as PEM, as {@code keytool -exportcert -rfc} would. */
    private static void selfSigned(Path keys, Path pem, String dname, String san) throws Exception {
        keytool(
                "-genkeypair",
                "-alias",
                "t",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                dname,
                "-ext",
                san,
                "-keystore",
                keys.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit");
        byte[] der = load(keys).getCertificate("t").getEncoded();
        Files.writeString(
                pem,
                "-----BEGIN CERTIFICATE-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                        + "\n-----END CERTIFICATE-----\n");
    }

    private static KeyStore load(Path keys) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keys)) {
            store.load(in, PASSWORD);
        }
        return store;
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "keytool did not end");
        assertEquals(0, process.exitValue(), "keytool " + String.join(" ", args) + ":\n" + output);
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }
}
