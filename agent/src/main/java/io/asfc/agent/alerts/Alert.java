package io.asfc.agent.alerts;

import java.util.Objects;

/**
 * One alert for the operator.
 *
 * @param kind what it is about
 * @param node the node concerned, or null for the whole cluster
 * @param what what happened, and where
 * @param action what the controller did about it
 */
public record Alert(AlertKind kind, String node, String what, String action) {
    public Alert {
        Objects.requireNonNull(kind, "kind");
        what = what == null ? "" : what;
        action = action == null ? "" : action;
    }

    /** Alerts with the same key are one condition: kind and node. */
    public String key() {
        return key(kind, node);
    }

    static String key(AlertKind kind, String node) {
        return kind + ":" + (node == null ? "" : node);
    }
}
