package io.asfc.agent.alerts;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An alerter that also tells a listener (the hooks) of each alert, deduplicated as an alerter
 * does: a condition once while outstanding, then once when recovered; a one-off each time. A
 * leadership change is told only with {@code alerts.on-leadership-change}, as it is mailed: the
 * event log tells of it anyway. Then hands the alert to the alerter it wraps.
 */
final class ForwardingAlerter implements Alerter {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardingAlerter.class);

    private final Alerter delegate;
    private final AlertListener listener;
    private final boolean onLeadershipChange;
    private final Outstanding outstanding = new Outstanding();

    ForwardingAlerter(Alerter delegate, AlertListener listener, boolean onLeadershipChange) {
        this.delegate = delegate;
        this.listener = listener;
        this.onLeadershipChange = onLeadershipChange;
    }

    @Override
    public void raise(Alert alert) {
        if (alert != null
                && (alert.kind() != AlertKind.LEADERSHIP_CHANGE || onLeadershipChange)
                && outstanding.raise(alert)) {
            tell(() -> listener.raised(alert));
        }
        delegate.raise(alert);
    }

    @Override
    public void recovered(AlertKind kind, String node, String what) {
        if (kind != null && outstanding.recover(kind, node).isPresent()) {
            tell(() -> listener.recovered(kind, node, what));
        }
        delegate.recovered(kind, node, what);
    }

    private static void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("an alert listener failed; the alert goes on", e);
        }
    }

    @Override
    public void close() {
        delegate.close();
    }
}
