package io.asfc.it.pg;

import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Runs the root tools the proving ground is built with ({@code ip}, {@code iptables}, {@code ssh-keygen}). */
final class Sh {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Path WORK_DIR = Path.of("/");

    private Sh() {}

    /** Runs {@code argv} and returns its standard output; a non-zero exit is an {@link IllegalStateException}. */
    static String run(String... argv) {
        CommandResult result = attempt(argv);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(result.describe());
        }
        return result.stdout();
    }

    /** Runs {@code argv}, whatever its exit code. */
    static CommandResult attempt(String... argv) {
        try {
            return Commands.run(List.of(argv), WORK_DIR, System.getenv(), TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", argv), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", argv), e);
        }
    }

    /** Sends {@code signal} (e.g. {@code KILL}, {@code STOP}) to {@code pid}, a pid of the root namespace. */
    static void kill(String signal, long pid) {
        run("kill", "-" + signal, Long.toString(pid));
    }
}
