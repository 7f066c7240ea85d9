package io.asfc.agent.alerts;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The alerter when e-mail is off: logs at INFO what would be mailed, deduplicated the same way. */
final class LoggingAlerter implements Alerter {
    private static final Logger LOG = LoggerFactory.getLogger(LoggingAlerter.class);

    private final Outstanding outstanding = new Outstanding();

    @Override
    public void raise(Alert alert) {
        if (alert != null && outstanding.raise(alert)) {
            LOG.info(
                    "alert (e-mail disabled, not sent): {}: {} {}",
                    AlertMail.shortText(alert.kind(), alert.node()),
                    alert.what(),
                    alert.action());
        }
    }

    @Override
    public void recovered(AlertKind kind, String node, String what) {
        if (kind != null && outstanding.recover(kind, node).isPresent()) {
            LOG.info("alert recovered (e-mail disabled, not sent): {}: {}", AlertMail.shortText(kind, node), what);
        }
    }

    @Override
    public void close() {
        // nothing queued, nothing to release
    }
}
