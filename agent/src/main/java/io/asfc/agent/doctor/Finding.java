package io.asfc.agent.doctor;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * One thing wrong with the cluster: how bad, which node (null for the cluster as a whole), which
 * check found it, and what an operator should know.
 *
 * @param check a stable name: zookeeper, active, scheduler, paused, request, garbage, agent,
 *     clock-skew, quarantine, cordon, ssh, s4-budget, unknown-node
 */
public record Finding(Severity severity, String node, String check, String message) {

    /** How bad a finding, or the cluster, is; ordered from good to bad. */
    public enum Severity {
        HEALTHY(0),
        DEGRADED(1),
        DOWN(2);

        private final int exitCode;

        Severity(int exitCode) {
            this.exitCode = exitCode;
        }

        /** doctor's exit code: 0 healthy, 1 degraded, 2 down. */
        public int exitCode() {
            return exitCode;
        }

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public Severity worse(Severity other) {
            return other.compareTo(this) > 0 ? other : this;
        }
    }

    static Finding degraded(String node, String check, String message) {
        return new Finding(Severity.DEGRADED, node, check, message);
    }

    static Finding down(String node, String check, String message) {
        return new Finding(Severity.DOWN, node, check, message);
    }
}
