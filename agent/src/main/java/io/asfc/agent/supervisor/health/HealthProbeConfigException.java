package io.asfc.agent.supervisor.health;

/** A health probe cannot be built: its URL or CA file is unusable. The message names which. */
public final class HealthProbeConfigException extends RuntimeException {
    public HealthProbeConfigException(String message) {
        super(message);
    }

    public HealthProbeConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
