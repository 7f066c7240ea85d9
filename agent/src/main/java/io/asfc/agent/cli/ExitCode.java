package io.asfc.agent.cli;

/** The exit codes of {@code asfc-agent}, as documented in DESIGN.md. */
public enum ExitCode {
    OK(0),
    FAILURE(1),
    USAGE(2),
    NOT_RUNNING(3),
    ZK_UNREACHABLE(69),
    BAD_CONFIG(78);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
