package io.asfc.common.config;

import java.nio.file.Path;
import java.util.Locale;

/** The enumerated settings. Spelled in config in lower case with dashes, e.g. {@code accept-new}. */
public final class Modes {
    private Modes() {}

    /** {@code asfc.scheduler.mode}. */
    public enum SchedulerMode {
        CHILD,
        COMMAND
    }

    /** {@code asfc.scheduler.foreign}: what the supervisor does about a scheduler on its host that asfc did not start. */
    public enum ForeignScheduler {
        STOP,
        ALERT
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

    /** {@code asfc.controller.failback}: whether the scheduler returns to the first node of {@code nodes}. */
    public enum Failback {
        OFF,
        TO_PREFERRED
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

    /** {@code asfc.zookeeper.auth.scheme}. */
    public enum AuthScheme {
        DIGEST,
        SASL
    }

    /** {@code asfc.zookeeper.acl}. */
    public enum AclMode {
        OPEN,
        CREATOR
    }

    /** {@code asfc.zookeeper.client.keystore.type} and {@code truststore.type}; ZooKeeper's names. */
    public enum StoreType {
        PKCS12,
        JKS,
        PEM;

        /** The type a store file's name suggests: .jks, .pem, and PKCS12 for anything else (.p12, .pfx). */
        public static StoreType byFileName(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".jks")) {
                return JKS;
            }
            return name.endsWith(".pem") ? PEM : PKCS12;
        }
    }
}
