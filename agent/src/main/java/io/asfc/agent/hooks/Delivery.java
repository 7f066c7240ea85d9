package io.asfc.agent.hooks;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * What the webhook does after one attempt: a pure decision from the attempt number and the answer.
 * A 2xx answer is delivered. No answer (connection refused, timeout), a 429 or a 5xx is retried
 * after a backoff that doubles from {@code backoff} up to {@code maxBackoff}, until
 * {@code maxAttempts}. Any other answer is final: retrying would get the same.
 */
record Delivery(int maxAttempts, Duration backoff, Duration maxBackoff) {

    sealed interface Next {}

    record Delivered() implements Next {}

    record Retry(Duration after) implements Next {}

    record GiveUp(String why) implements Next {}

    /**
     * @param attempt the attempt that just ended, from 1
     * @param status the answer's HTTP status; empty when there was no answer
     */
    Next after(int attempt, OptionalInt status) {
        if (status.isPresent() && status.getAsInt() >= 200 && status.getAsInt() < 300) {
            return new Delivered();
        }
        String what = status.isPresent() ? "HTTP " + status.getAsInt() : "no answer";
        if (status.isPresent() && !retryable(status.getAsInt())) {
            return new GiveUp(what + " (not retried)");
        }
        if (attempt >= maxAttempts) {
            return new GiveUp(what + " after " + attempt + " attempt(s)");
        }
        return new Retry(wait(attempt));
    }

    static boolean retryable(int status) {
        return status == 429 || status >= 500;
    }

    /** The wait after attempt {@code attempt}: backoff, 2 x backoff, 4 x ..., at most maxBackoff. */
    Duration wait(int attempt) {
        Duration wait = backoff;
        for (int i = 1; i < attempt && wait.compareTo(maxBackoff) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait;
    }
}
