package io.asfc.it;

import java.util.List;

/** How a finished command ended: its exit code and everything it printed. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

    /** The command, its exit code and its output, for assertion messages. */
    public String describe() {
        return String.join(" ", command) + " exited " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n"
                + stderr;
    }
}
