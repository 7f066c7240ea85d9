package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent from the distribution serves /metrics with the named metrics, and /health turns 503 without ZooKeeper. */
class HttpIT {
    private static final Duration WAIT = Duration.ofSeconds(45);
    private static final List<String> METRICS = List.of(
            "asfc_role",
            "asfc_leadership_changes_total",
            "asfc_scheduler_starts_total",
            "asfc_scheduler_restarts_total",
            "asfc_failovers_total",
            "asfc_strays_stopped_total",
            "asfc_ssh_failures_total",
            "asfc_zookeeper_connection_state",
            "asfc_heartbeat_age_seconds",
            "asfc_scheduler_restart_seconds_bucket");

    @TempDir
    Path dir;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private OneAgent cluster;
    private int port;

    @BeforeEach
    void start() throws Exception {
        cluster = OneAgent.prepare(dir);
        port = Network.freePort();
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void metricsAreServedAndHealthTurns503WhenZooKeeperIsGone() throws Exception {
        cluster.start("asfc.http { enabled = true, port = " + port + " }\n");
        await().atMost(WAIT).ignoreExceptions().until(() -> get("/health").statusCode() == 200);

        HttpResponse<String> metrics = get("/metrics");
        HttpResponse<String> status = get("/status");

        assertEquals(200, metrics.statusCode());
        for (String name : METRICS) {
            assertTrue(metrics.body().contains("\n" + name), () -> name + " missing in:\n" + metrics.body());
        }
        assertTrue(metrics.body().contains("asfc_role{role=\"active\"} 1.0"), metrics::body);
        assertTrue(status.body().contains("\"role\" : \"ACTIVE\""), status::body);

        cluster.stopZooKeeper();
        await().atMost(WAIT).until(() -> get("/health").statusCode() == 503);
        HttpResponse<String> down = get("/health");
        assertTrue(down.body().contains("\"status\" : \"DOWN\""), down::body);
        assertTrue(down.body().toLowerCase().contains("zookeeper"), down::body);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
