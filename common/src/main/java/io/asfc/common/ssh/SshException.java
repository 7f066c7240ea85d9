package io.asfc.common.ssh;

/** An SSH call failed; {@link #reason()} says how, in words an operator can act on. */
public class SshException extends Exception {
    /** How an SSH call failed. */
    public enum Reason {
        UNKNOWN_HOST,
        CONNECTION_REFUSED,
        TIMED_OUT,
        HOST_KEY_MISMATCH,
        HOST_KEY_UNKNOWN,
        AUTH_FAILED,
        UNREACHABLE,
        COMMAND_FAILED,
        /** The host refused a start: a newer leader fenced it ({@link StaleEpochException}). */
        REFUSED
    }

    private final Reason reason;

    public SshException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public SshException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** True when the host may run a scheduler we could not see: every failure but a clean refusal to run. */
    public boolean unreachable() {
        return reason != Reason.COMMAND_FAILED && reason != Reason.REFUSED;
    }
}
