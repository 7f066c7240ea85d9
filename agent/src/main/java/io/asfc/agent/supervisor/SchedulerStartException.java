package io.asfc.agent.supervisor;

/** The scheduler could not be started; the message names the command and the reason. */
public final class SchedulerStartException extends RuntimeException {
    public SchedulerStartException(String message) {
        super(message);
    }

    public SchedulerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
