package io.asfc.agent.supervisor.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.asfc.agent.supervisor.health.HealthResult.Status;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.SchedulerSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpHealthProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final String HEALTHY_JSON = "{\"metadatabase\":{\"status\":\"healthy\"},"
            + "\"scheduler\":{\"status\":\"healthy\",\"latest_scheduler_heartbeat\":\"2024-05-01T10:00:00+00:00\"}}";
    private static final String UNHEALTHY_JSON = "{\"metadatabase\":{\"status\":\"healthy\"},"
            + "\"scheduler\":{\"status\":\"unhealthy\",\"latest_scheduler_heartbeat\":\"2024-05-01T09:00:00+00:00\"}}";

    private final CountDownLatch release = new CountDownLatch(1);
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private ServerSocket silent;

    @AfterEach
    void stopServers() throws IOException {
        release.countDown();
        if (server != null) {
            server.stop(0);
        }
        if (silent != null) {
            silent.close();
        }
        for (Socket socket : held) {
            socket.close();
        }
    }

    @Test
    void statusCodeFormatCalls200Healthy() {
        HealthResult result = check(HealthFormat.STATUS_CODE, serve(200, ""));

        assertEquals(new HealthResult(Status.HEALTHY, "HTTP 200"), result);
    }

    @Test
    void statusCodeFormatCalls503Unhealthy() {
        HealthResult result = check(HealthFormat.STATUS_CODE, serve(503, "<html>Service Unavailable</html>"));

        assertEquals(new HealthResult(Status.UNHEALTHY, "HTTP 503"), result);
    }

    @Test
    void airflowJsonWithHealthySchedulerIsHealthy() {
        HealthResult result = check(HealthFormat.AIRFLOW_JSON, serve(200, HEALTHY_JSON));

        assertEquals(Status.HEALTHY, result.status());
        assertTrue(result.detail().contains("latest heartbeat 2024-05-01T10:00:00+00:00"), result.detail());
    }

    @Test
    void airflowJsonWithUnhealthySchedulerIsUnhealthyThoughTheStatusCodeIs200() {
        HealthResult result = check(HealthFormat.AIRFLOW_JSON, serve(200, UNHEALTHY_JSON));

        assertEquals(Status.UNHEALTHY, result.status());
        assertTrue(result.detail().contains("scheduler.status unhealthy"), result.detail());
    }

    @Test
    void airflowJsonCallsABodyThatIsNotJsonUnhealthy() {
        HealthResult result = check(HealthFormat.AIRFLOW_JSON, serve(200, "OK"));

        assertEquals(new HealthResult(Status.UNHEALTHY, "HTTP 200 but the body is not JSON"), result);
    }

    @Test
    void airflowJsonCallsJsonWithoutSchedulerStatusUnhealthy() {
        HealthResult result =
                check(HealthFormat.AIRFLOW_JSON, serve(200, "{\"metadatabase\":{\"status\":\"healthy\"}}"));

        assertEquals(new HealthResult(Status.UNHEALTHY, "HTTP 200 but the JSON has no scheduler.status"), result);
    }

    @Test
    void airflowJsonCallsAnErrorStatusUnhealthyWhateverTheBodySays() {
        HealthResult result = check(HealthFormat.AIRFLOW_JSON, serve(500, HEALTHY_JSON));

        assertEquals(new HealthResult(Status.UNHEALTHY, "HTTP 500"), result);
    }

    @Test
    void autoJudgesByTheJsonWhenItHasSchedulerStatus() {
        assertEquals(
                Status.UNHEALTHY,
                check(HealthFormat.AUTO, serve(200, UNHEALTHY_JSON)).status());
    }

    @Test
    void autoCallsHealthyJsonWithAnErrorStatusUnhealthy() {
        assertEquals(
                Status.UNHEALTHY,
                check(HealthFormat.AUTO, serve(503, HEALTHY_JSON)).status());
    }

    @Test
    void autoCallsHealthyJsonWith200Healthy() {
        assertEquals(
                Status.HEALTHY,
                check(HealthFormat.AUTO, serve(200, HEALTHY_JSON)).status());
    }

    @Test
    void autoJudgesATextBodyByTheStatusCode() {
        assertEquals(new HealthResult(Status.HEALTHY, "HTTP 200"), check(HealthFormat.AUTO, serve(200, "OK")));
    }

    @Test
    void autoJudgesA503TextBodyUnhealthy() {
        assertEquals(new HealthResult(Status.UNHEALTHY, "HTTP 503"), check(HealthFormat.AUTO, serve(503, "busy")));
    }

    @Test
    void autoJudgesJsonWithoutSchedulerStatusByTheStatusCode() {
        assertEquals(
                Status.HEALTHY,
                check(HealthFormat.AUTO, serve(200, "{\"status\":\"ok\"}")).status());
    }

    @Test
    void aBodyLargerThanTheLimitIsReadOnlyInPartAndIsNotTakenForJson() {
        String huge = "{\"scheduler\":{\"status\":\"healthy\"},\"pad\":\"" + "x".repeat(1024 * 1024) + "\"}";
        URI url = serve(200, huge);

        HealthResult json = check(HealthFormat.AIRFLOW_JSON, url);
        HealthResult code = check(HealthFormat.STATUS_CODE, url);

        assertEquals(Status.UNHEALTHY, json.status());
        assertTrue(json.detail().contains("longer than " + HttpHealthProbe.MAX_BODY_BYTES), json.detail());
        assertEquals(Status.HEALTHY, code.status());
    }

    @Test
    void refusedConnectionIsUnreachable() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }

        HealthResult result = check(HealthFormat.AUTO, URI.create("http://127.0.0.1:" + port + "/health"));

        assertEquals(new HealthResult(Status.UNREACHABLE, "connection refused"), result);
    }

    @Test
    void serverThatAcceptsButNeverAnswersIsUnreachableWithinTheTimeout() throws IOException {
        HttpHealthProbe probe = probe(HealthFormat.AUTO, silentServer(), SHORT_TIMEOUT);

        HealthResult result = assertTimeoutPreemptively(BOUND, probe::check);

        assertEquals(new HealthResult(Status.UNREACHABLE, "timed out after 300ms"), result);
    }

    @Test
    void serverThatStallsInTheMiddleOfTheBodyIsUnreachableWithinTheTimeout() {
        URI url = start(exchange -> {
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write("{\"scheduler\":".getBytes(StandardCharsets.UTF_8));
            out.flush();
            awaitRelease();
            exchange.close();
        });
        HttpHealthProbe probe = probe(HealthFormat.AIRFLOW_JSON, url, SHORT_TIMEOUT);

        HealthResult result = assertTimeoutPreemptively(BOUND, probe::check);

        assertEquals(new HealthResult(Status.UNREACHABLE, "timed out after 300ms"), result);
    }

    @Test
    void interruptedCheckIsUnreachableAndKeepsTheInterruptFlag() throws IOException {
        HttpHealthProbe probe = probe(HealthFormat.AUTO, silentServer(), TIMEOUT);

        Thread.currentThread().interrupt();
        HealthResult result = probe.check();
        boolean stillInterrupted = Thread.interrupted();

        assertEquals(new HealthResult(Status.UNREACHABLE, "interrupted"), result);
        assertTrue(stillInterrupted);
    }

    @Test
    void unknownHostIsUnreachable() {
        HttpHealthProbe probe =
                probe(HealthFormat.AUTO, URI.create("http://asfc-no-such-host.invalid/health"), TIMEOUT);

        HealthResult result = assertTimeoutPreemptively(Duration.ofSeconds(10), probe::check);

        assertEquals(Status.UNREACHABLE, result.status(), result.detail());
    }

    @Test
    void urlThatIsNotHttpIsRejectedNamingIt() {
        HealthProbeConfigException e = assertThrows(
                HealthProbeConfigException.class,
                () -> probe(HealthFormat.AUTO, URI.create("ftp://127.0.0.1/health"), TIMEOUT));

        assertTrue(e.getMessage().contains("ftp://127.0.0.1/health"), e.getMessage());
    }

    @Test
    void settingsWithoutUrlGiveNoProbe() {
        assertFalse(HttpHealthProbe.fromSettings(settings(Optional.empty())).isPresent());
    }

    @Test
    void settingsWithUrlGiveAProbeOfThatUrl() {
        URI url = serve(200, HEALTHY_JSON);

        Optional<HealthProbe> probe = HttpHealthProbe.fromSettings(settings(Optional.of(url.toString())));

        assertEquals(Status.HEALTHY, probe.orElseThrow().check().status());
    }

    @Test
    void settingsWithAMalformedUrlAreRejectedNamingIt() {
        HealthProbeConfigException e = assertThrows(
                HealthProbeConfigException.class,
                () -> HttpHealthProbe.fromSettings(settings(Optional.of("http://a b/"))));

        assertTrue(e.getMessage().contains("http://a b/"), e.getMessage());
    }

    private static SchedulerSettings.Health settings(Optional<String> url) {
        return new SchedulerSettings.Health(
                url, HealthFormat.AUTO, Duration.ofSeconds(10), TIMEOUT, Duration.ofSeconds(60), Optional.empty());
    }

    private static HttpHealthProbe probe(HealthFormat format, URI url, Duration timeout) {
        return new HttpHealthProbe(url, format, timeout, Optional.empty());
    }

    private static HealthResult check(HealthFormat format, URI url) {
        return probe(format, url, TIMEOUT).check();
    }

    private URI serve(int status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return start(exchange -> {
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            } catch (IOException e) {
                // The probe hung up after the part of the body it reads; that is what is tested.
            }
            exchange.close();
        });
    }

    private URI start(Handler handler) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a test HTTP server", e);
        }
        server.createContext("/health", handler::handle);
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/health");
    }

    /** A server that accepts connections and holds them without ever answering. */
    private URI silentServer() throws IOException {
        silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(
                () -> {
                    try {
                        while (true) {
                            held.add(silent.accept());
                        }
                    } catch (IOException e) {
                        // closed by stopServers()
                    }
                },
                "silent-server-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/health");
    }

    private void awaitRelease() {
        try {
            release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @FunctionalInterface
    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }
}
