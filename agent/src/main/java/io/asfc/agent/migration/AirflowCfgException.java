package io.asfc.agent.migration;

/**
 * The airflow.cfg cannot be imported: it is missing, unreadable, not valid INI, or has no
 * {@code [scheduler_failover]} section. The message names the file (and line); it never quotes a
 * line of the file, which could hold a secret.
 */
public final class AirflowCfgException extends RuntimeException {
    public AirflowCfgException(String message) {
        super(message);
    }
}
