package io.asfc.agent.supervisor.health;

/**
 * The outcome of one health check.
 *
 * @param detail what was seen, e.g. "HTTP 503" or "connection refused"; for logs and events
 */
public record HealthResult(Status status, String detail) {
    /** HEALTHY and UNHEALTHY are answers; UNREACHABLE means no answer (refused, timed out). */
    public enum Status {
        HEALTHY,
        UNHEALTHY,
        UNREACHABLE
    }

    public boolean healthy() {
        return status == Status.HEALTHY;
    }
}
