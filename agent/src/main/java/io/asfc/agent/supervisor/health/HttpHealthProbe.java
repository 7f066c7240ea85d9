package io.asfc.agent.supervisor.health;

import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.SchedulerSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks an HTTP(S) health URL whether the scheduler is healthy. One check never takes longer than
 * the timeout: connecting, waiting for the answer and reading at most {@value #MAX_BODY_BYTES} bytes
 * of body all count against it. TLS is always verified; a CA file adds to the JDK's trust.
 */
public final class HttpHealthProbe implements HealthProbe {
    private static final Logger LOG = LoggerFactory.getLogger(HttpHealthProbe.class);

    static final int MAX_BODY_BYTES = 64 * 1024;

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final URI url;
    private final HealthFormat format;
    private final Duration timeout;
    private final HttpClient client;
    private final HttpRequest request;

    /** @throws HealthProbeConfigException when the URL is not http(s) or the CA file is unusable */
    public HttpHealthProbe(URI url, HealthFormat format, Duration timeout, Optional<Path> caFile) {
        this.url = requireHttp(url);
        this.format = Objects.requireNonNull(format, "format");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout of health checks of " + url + " must be positive");
        }
        this.timeout = timeout;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(timeout)
                .sslContext(CaFileTrust.sslContext(caFile))
                .executor(executor())
                .build();
        this.request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Accept", "application/json, */*;q=0.5")
                .header("User-Agent", "asfc-health-probe")
                .GET()
                .build();
    }

    /** The probe of {@code asfc.scheduler.health}, or empty when no URL is set. */
    public static Optional<HealthProbe> fromSettings(SchedulerSettings.Health settings) {
        return settings.url()
                .filter(url -> !url.isBlank())
                .map(url -> new HttpHealthProbe(toUri(url), settings.format(), settings.timeout(), settings.caFile()));
    }

    @Override
    public HealthResult check() {
        try {
            return ask();
        } catch (RuntimeException e) {
            LOG.warn("health check of {} failed unexpectedly", url, e);
            return unreachable("probe error: " + e);
        }
    }

    private HealthResult ask() {
        BoundedBody.Handler body = new BoundedBody.Handler(MAX_BODY_BYTES);
        CompletableFuture<HttpResponse<BoundedBody>> answer = client.sendAsync(request, body);
        try {
            HttpResponse<BoundedBody> response = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            HealthResult result = ResponseJudge.judge(format, response.statusCode(), response.body());
            LOG.debug("health of {}: {}", url, result);
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(answer, body);
            return unreachable("interrupted");
        } catch (TimeoutException e) {
            // A timeout is an answer of its own: the result names it and the caller logs transitions.
            abort(answer, body);
            return unreachable(UnreachableReason.timedOut(timeout));
        } catch (ExecutionException e) {
            LOG.debug("health check of {} failed", url, e.getCause());
            return unreachable(UnreachableReason.describe(e.getCause(), url, timeout));
        }
    }

    @Override
    public String toString() {
        return "HttpHealthProbe[" + url + ", " + format + "]";
    }

    private static void abort(CompletableFuture<?> answer, BoundedBody.Handler body) {
        answer.cancel(true);
        body.abort();
    }

    private static HealthResult unreachable(String detail) {
        return new HealthResult(HealthResult.Status.UNREACHABLE, detail);
    }

    private static URI toUri(String url) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw new HealthProbeConfigException(
                    "the health URL \"" + url + "\" is not a valid URL: " + e.getReason(), e);
        }
    }

    private static URI requireHttp(URI url) {
        String scheme = Objects.requireNonNull(url, "url").getScheme();
        if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme) || url.getHost() == null) {
            throw new HealthProbeConfigException("the health URL \"" + url + "\" must be an http:// or https:// URL");
        }
        return url;
    }

    /** Daemon threads, so that a check stuck in DNS never holds up the JVM's exit; idle ones end after 60s. */
    private static ExecutorService executor() {
        return Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "asfc-health-http-" + THREADS.getAndIncrement());
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((t, e) -> LOG.error("uncaught exception in {}", t.getName(), e));
            return thread;
        });
    }
}
