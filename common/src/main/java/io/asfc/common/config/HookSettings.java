package io.asfc.common.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * {@code asfc.hooks}: what the agent tells the outside world about each event it records.
 *
 * @param onEvent the command run on every event (through {@code /bin/sh -c}); empty: none
 * @param timeout how long one run of {@code onEvent} may take before its process tree is killed
 * @param queueSize how many events may wait for the command; more are dropped and counted
 */
public record HookSettings(Optional<String> onEvent, Duration timeout, int queueSize, Webhook webhook) {

    /**
     * {@code asfc.hooks.webhook}.
     *
     * @param url where each event is POSTed as JSON; empty: no webhook. It may hold a secret (a Slack
     *     webhook's path does), so only its scheme, host and port are ever logged
     * @param headers extra request headers; their values are secrets, never logged
     * @param timeout bound of one attempt: connecting and waiting for the answer
     * @param maxAttempts attempts per event, the first included
     * @param retryBackoff the wait before the first retry; it doubles up to {@code maxRetryBackoff}
     * @param queueSize how many events may wait to be sent; more are dropped (the oldest) and counted
     */
    public record Webhook(
            Optional<URI> url,
            Map<String, Secret> headers,
            Duration timeout,
            int maxAttempts,
            Duration retryBackoff,
            Duration maxRetryBackoff,
            int queueSize) {

        /** The URL as it may be logged: scheme, host and port, never its path or query. */
        public String loggable() {
            return url.map(u -> u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()))
                    .orElse("");
        }

        /** Without the URL's path and query, which may be a secret. */
        @Override
        public String toString() {
            return "Webhook[url=" + loggable() + ", headers=" + headers.keySet() + ", timeout=" + timeout
                    + ", maxAttempts=" + maxAttempts + ", retryBackoff=" + retryBackoff + ", maxRetryBackoff="
                    + maxRetryBackoff + ", queueSize=" + queueSize + "]";
        }
    }
}
