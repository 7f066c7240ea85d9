package io.asfc.common.config;

import io.asfc.common.config.Modes.SmtpTransport;
import java.time.Duration;
import java.util.List;

/** {@code asfc.alerts}. */
public record AlertSettings(int retryCountBeforeAlerting, boolean onLeadershipChange, Email email) {

    /** {@code asfc.alerts.email}. */
    public record Email(
            boolean enabled,
            List<String> to,
            String from,
            String subjectPrefix,
            Duration timeout,
            int maxPerHour,
            Smtp smtp) {}

    /** {@code asfc.alerts.email.smtp}. */
    public record Smtp(String host, int port, SmtpTransport transport, String user, Secret password) {}
}
