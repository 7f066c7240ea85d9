package io.asfc.agent.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.HttpSettings;
import io.asfc.common.zk.Json;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP endpoint, one JDK {@link HttpServer} on {@code asfc.http.bind:port}:
 *
 * <ul>
 *   <li>{@code /health}: 200 when healthy, 503 otherwise, with the reasons (a probe for a load
 *       balancer or Kubernetes);
 *   <li>{@code /status}: this agent and its cluster, as JSON;
 *   <li>{@code /metrics}: the agent's Prometheus metrics (text format, or OpenMetrics when asked).
 * </ul>
 *
 * It listens from the start of the agent, so that a port conflict fails before the agent joins its
 * cluster, and {@code /health} says "starting" until the agent has joined.
 */
public final class HttpEndpoint implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final int THREADS = 4;
    private static final String JSON = "application/json; charset=utf-8";

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final HttpSettings settings;
    private final Metrics metrics;
    private final HealthCheck health;
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final ExecutorService executor;
    private volatile StatusView status;
    private HttpServer server;

    public HttpEndpoint(HttpSettings settings, String nodeId, Metrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        this.health = new HealthCheck(nodeId, metrics);
        this.executor = Executors.newFixedThreadPool(THREADS, Threads.factory("asfc-http-%d", nodeId));
    }

    /**
     * Listens and serves.
     *
     * @throws HttpBindException when the address cannot be listened on (in use, not local, unknown)
     */
    public void start() {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("the HTTP endpoint can be started only once");
        }
        String where = settings.bind() + ":" + settings.port();
        try {
            server = HttpServer.create(new InetSocketAddress(settings.bind(), settings.port()), 0);
        } catch (IOException | RuntimeException e) {
            executor.shutdown();
            throw new HttpBindException(
                    "cannot serve HTTP on " + where + " (asfc.http.bind, asfc.http.port): " + e.getMessage(), e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        LOG.info("serving /health, /status and /metrics on http://{}", hostPort(address()));
    }

    /** Serves {@code /status} from now on; until then it answers 503. */
    public void serveStatus(StatusView view) {
        this.status = view;
    }

    /** The address it listens on (with the actual port when {@code asfc.http.port = 0}). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) {
        try {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, JSON, json(Map.of("error", "only GET and HEAD are allowed")));
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/health" -> health(exchange);
                case "/status" -> status(exchange);
                case "/metrics" -> metrics(exchange);
                default -> send(
                        exchange, 404, JSON, json(Map.of("error", "not found; try /health, /status or /metrics")));
            }
        } catch (IOException e) {
            LOG.debug("HTTP request {} ended early", exchange.getRequestURI(), e);
        } catch (RuntimeException e) {
            LOG.warn("HTTP request {} failed", exchange.getRequestURI(), e);
            try {
                send(exchange, 500, JSON, json(Map.of("error", e.toString())));
            } catch (IOException | RuntimeException again) {
                LOG.debug("could not answer 500 to {}", exchange.getRequestURI(), again);
            }
        } finally {
            exchange.close();
        }
    }

    private void health(HttpExchange exchange) throws IOException {
        HealthCheck.Report report = health.check();
        send(exchange, report.healthy() ? 200 : 503, JSON, json(report));
    }

    private void status(HttpExchange exchange) throws IOException {
        StatusView view = status;
        if (view == null) {
            send(exchange, 503, JSON, json(Map.of("error", "starting: the agent has not joined its cluster yet")));
            return;
        }
        StatusView.Status s = view.read();
        send(exchange, s.error() == null ? 200 : 503, JSON, json(s));
    }

    private void metrics(HttpExchange exchange) throws IOException {
        ExpositionFormatWriter writer =
                formats.findWriter(exchange.getRequestHeaders().getFirst("Accept"));
        if (!writer.isAvailable()) {
            writer = formats.getPrometheusTextFormatWriter(); // protobuf is not shipped
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writer.write(body, metrics.registry().scrape());
        send(exchange, 200, writer.getContentType(), body.toByteArray());
    }

    private static byte[] json(Object value) {
        return (Json.pretty(value) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void send(HttpExchange exchange, int code, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Stops listening and ends the requests under way (a probe of a stopping agent may fail). */
    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        if (server != null) {
            server.stop(0);
        }
        executor.shutdownNow();
    }
}
