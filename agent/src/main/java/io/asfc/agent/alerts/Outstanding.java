package io.asfc.agent.alerts;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The alerts raised and not yet recovered, by key; safe to use from any thread. */
final class Outstanding {
    private final ConcurrentMap<String, Alert> alerts = new ConcurrentHashMap<>();

    /**
     * Records a condition; false when one with its key is outstanding already (a repeat). A one-off
     * event ({@link AlertKind#oneOff()}) is never recorded, so it is never a repeat.
     */
    boolean raise(Alert alert) {
        return alert.kind().oneOff() || alerts.putIfAbsent(alert.key(), alert) == null;
    }

    /** Clears the outstanding alert with this key and returns it, if there is one. */
    Optional<Alert> recover(AlertKind kind, String node) {
        return Optional.ofNullable(alerts.remove(Alert.key(kind, node)));
    }

    /** Forgets this alert (not a later one with the same key), so that a repeat is sent again. */
    void forget(Alert alert) {
        alerts.remove(alert.key(), alert);
    }
}
