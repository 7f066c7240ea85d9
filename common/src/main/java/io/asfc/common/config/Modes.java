package io.asfc.common.config;

/** The enumerated settings. Spelled in config in lower case with dashes, e.g. {@code accept-new}. */
public final class Modes {
    private Modes() {}

    /** {@code asfc.scheduler.mode}. */
    public enum SchedulerMode {
        CHILD,
        COMMAND
    }

    /** {@code asfc.scheduler.health.format}. */
    public enum HealthFormat {
        AUTO,
        STATUS_CODE,
        AIRFLOW_JSON
    }

    /** {@code asfc.controller.on-unfenceable}. */
    public enum OnUnfenceable {
        PROCEED,
        WAIT
    }

    /** {@code asfc.ssh.strict-host-key-checking}. */
    public enum HostKeyChecking {
        YES,
        ACCEPT_NEW,
        NO
    }

    /** {@code asfc.alerts.email.smtp.transport}. */
    public enum SmtpTransport {
        SMTP,
        SMTP_TLS,
        SMTPS
    }

    /** {@code asfc.zookeeper.acl}. */
    public enum AclMode {
        OPEN,
        CREATOR
    }
}
