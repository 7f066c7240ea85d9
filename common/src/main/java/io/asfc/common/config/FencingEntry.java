package io.asfc.common.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One method of {@code asfc.controller.fencing}: {@code ssh} (the controller's SSH look-and-stop) or
 * {@code shell:<command>} (a command run on the ACTIVE agent's own host, from this config only: S5).
 *
 * @param command the shell command; null for {@code ssh}
 */
public record FencingEntry(Kind kind, String command) {
    /** The methods asfc knows. */
    public enum Kind {
        SSH,
        SHELL
    }

    public static final FencingEntry SSH = new FencingEntry(Kind.SSH, null);

    /** How the methods are spelled, for problems and docs. */
    public static final String SPELLINGS = "ssh | shell:<command>";

    private static final String SHELL_PREFIX = "shell:";

    public FencingEntry {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.SHELL) != (command != null && !command.isBlank())) {
            throw new IllegalArgumentException("a shell method, and only it, has a command");
        }
    }

    public static FencingEntry shell(String command) {
        return new FencingEntry(Kind.SHELL, command.trim());
    }

    /**
     * Reads one entry as the config spells it.
     *
     * @return empty when {@code text} names no known method; a {@code shell:} with a blank command
     *     throws {@link IllegalArgumentException}
     */
    public static Optional<FencingEntry> parse(String text) {
        String t = text.trim();
        if (t.equals("ssh")) {
            return Optional.of(SSH);
        }
        if (t.startsWith(SHELL_PREFIX)) {
            String command = t.substring(SHELL_PREFIX.length()).trim();
            if (command.isEmpty()) {
                throw new IllegalArgumentException("shell: needs a command, e.g. \"shell:/usr/local/bin/fence-ipmi\"");
            }
            return Optional.of(shell(command));
        }
        return Optional.empty();
    }

    /**
     * How logs, events and {@code check-config} name the method at {@code position} (from 1) of the
     * list: {@code ssh}, or {@code shell #2 (/usr/local/bin/fence-ipmi)}; never a command's
     * arguments (they may hold a secret), nor a first word that sets a variable.
     */
    public String label(int position) {
        if (kind == Kind.SSH) {
            return "ssh";
        }
        String first = command.split("\\s+", 2)[0];
        return "shell #" + position + " (" + (first.contains("=") ? "sh" : first) + ")";
    }

    @Override
    public String toString() {
        return kind == Kind.SSH ? "ssh" : SHELL_PREFIX + command;
    }
}
