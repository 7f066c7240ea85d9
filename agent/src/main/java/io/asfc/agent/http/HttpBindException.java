package io.asfc.agent.http;

/** The HTTP endpoint could not listen on {@code asfc.http.bind:asfc.http.port}. */
public final class HttpBindException extends RuntimeException {
    public HttpBindException(String message, Throwable cause) {
        super(message, cause);
    }
}
