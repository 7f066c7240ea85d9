package io.asfc.agent.alerts;

import io.asfc.common.config.AlertSettings;

/** Not implemented yet (issue 5): alerts are not sent; every agent uses {@link Alerter#disabled()}. */
public final class EmailAlerter {
    private EmailAlerter() {}

    public static Alerter create(String cluster, String nodeId, AlertSettings settings) {
        return Alerter.disabled();
    }
}
