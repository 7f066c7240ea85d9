package io.asfc.agent.alerts;

public record Alert(AlertKind kind, String node, String what, String action) {
    public String key() {
        return kind + ":" + (node == null ? "" : node);
    }
}
