package io.asfc.agent.hooks;

import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.metrics.Metrics.HookSink;
import io.asfc.common.config.HookSettings;
import io.asfc.common.zk.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs each event as JSON ({@link WebhookPayload}) to {@code hooks.webhook.url}, one at a time on
 * its own thread, with the JDK's HTTP client: each attempt bounded by {@code hooks.webhook.timeout},
 * retried as {@link Delivery} decides. The URL beyond its host and the header values are never
 * logged: they may be secrets.
 */
public final class Webhook implements EventSink {
    private static final Logger LOG = LoggerFactory.getLogger(Webhook.class);
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(2);

    private final URI url;
    private final String where;
    private final HookSettings.Webhook settings;
    private final Delivery delivery;
    private final Metrics metrics;
    private final HttpClient client;
    private final SinkQueue queue;

    /** @throws IllegalArgumentException when {@code settings} has no URL */
    public Webhook(String nodeId, HookSettings.Webhook settings, Metrics metrics) {
        this.url = settings.url().orElseThrow(() -> new IllegalArgumentException("hooks.webhook.url is not set"));
        this.where = settings.loggable();
        this.settings = settings;
        this.delivery = new Delivery(settings.maxAttempts(), settings.retryBackoff(), settings.maxRetryBackoff());
        this.metrics = metrics;
        this.client = HttpClient.newBuilder()
                .connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.queue =
                new SinkQueue("webhook", nodeId, settings.queueSize(), e -> metrics.hookEventDropped(HookSink.WEBHOOK));
    }

    @Override
    public void offer(HookEvent event) {
        queue.offer(event, this::deliver);
    }

    private void deliver(HookEvent event) {
        HttpRequest request = request(event);
        for (int attempt = 1; ; attempt++) {
            OptionalInt status = attempt(event, request);
            Delivery.Next next = delivery.after(attempt, status);
            if (next instanceof Delivery.Delivered) {
                LOG.debug("webhook {} took event {} (attempt {})", where, event.type(), attempt);
                metrics.webhookDelivered(true);
                return;
            }
            if (next instanceof Delivery.GiveUp giveUp) {
                LOG.warn("webhook {} did not take event {}: {}", where, event.type(), giveUp.why());
                metrics.webhookDelivered(false);
                return;
            }
            Duration wait = ((Delivery.Retry) next).after();
            metrics.webhookRetried();
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                LOG.warn("webhook {}: event {} not delivered, the agent is closing", where, event.type());
                metrics.webhookDelivered(false);
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One POST; the status, or empty when there was no answer. */
    private OptionalInt attempt(HookEvent event, HttpRequest request) {
        try {
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() / 100 != 2) {
                LOG.info("webhook {} answered HTTP {} to event {}", where, response.statusCode(), event.type());
            }
            return OptionalInt.of(response.statusCode());
        } catch (IOException e) {
            // Only the message: the exception may name the whole URL, which can be a secret.
            LOG.info(
                    "webhook {} not reached for event {}: {}",
                    where,
                    event.type(),
                    e.toString().replace(url.toString(), where));
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
    }

    private HttpRequest request(HookEvent event) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(url)
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "asfc-agent")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.encode(event.payload())));
        settings.headers().forEach((name, value) -> builder.setHeader(name, value.reveal()));
        return builder.build();
    }

    @Override
    public void close() {
        queue.close(CLOSE_BOUND);
    }
}
