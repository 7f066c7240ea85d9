package io.asfc.agent.alerts;

import java.io.Closeable;

/** Tells the operator what needs attention, without ever delaying or failing the caller. */
public interface Alerter extends Closeable {
    /**
     * Never blocks the caller and never throws: queues the alert for sending. A condition is
     * deduplicated by {@link Alert#key()}: while one with that key is outstanding (raised, not yet
     * recovered) a repeat is not sent again. A one-off event ({@link AlertKind#oneOff()}) is sent
     * every time.
     */
    void raise(Alert alert);

    /**
     * If an alert with this key is outstanding, sends one "recovered" mail ({@code what} = what ended)
     * and clears it; otherwise does nothing.
     */
    void recovered(AlertKind kind, String node, String what);

    /** Waits up to a few seconds for queued mails, then gives up. */
    @Override
    void close();

    /**
     * {@code delegate}, also telling {@code listener} of each alert it would send (deduplicated the
     * same way); leadership changes only when {@code onLeadershipChange}.
     */
    static Alerter forwarding(Alerter delegate, AlertListener listener, boolean onLeadershipChange) {
        return new ForwardingAlerter(delegate, listener, onLeadershipChange);
    }

    /** Logs at INFO what would be sent; used when {@code alerts.email.enabled = false}. */
    static Alerter disabled() {
        return new LoggingAlerter();
    }
}
