package io.asfc.agent.alerts;

/** Told of each alert that is sent (not of repeats of an outstanding condition); must not block. */
public interface AlertListener {
    void raised(Alert alert);

    /** A condition that was raised has ended. */
    void recovered(AlertKind kind, String node, String what);
}
