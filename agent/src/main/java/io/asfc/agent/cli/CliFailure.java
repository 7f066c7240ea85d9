package io.asfc.agent.cli;

/** An expected failure of a command (exit code 1): its message is printed, without a stack trace. */
final class CliFailure extends RuntimeException {
    CliFailure(String message) {
        super(message);
    }
}
