package io.asfc.common.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A secret value (password, passphrase). It never prints itself, so it can't leak into logs or errors.
 * It remembers the file it was read from, if any ({@code <key>-file}), so that file's permissions
 * can be checked; equality is by value alone.
 */
public final class Secret {
    private static final Secret EMPTY = new Secret("", null);
    private final String value;
    private final Path file;

    private Secret(String value, Path file) {
        this.value = value;
        this.file = file;
    }

    public static Secret of(String value) {
        Objects.requireNonNull(value, "value");
        return value.isEmpty() ? EMPTY : new Secret(value, null);
    }

    /** A secret read from {@code file}. */
    public static Secret fromFile(String value, Path file) {
        Objects.requireNonNull(value, "value");
        return new Secret(value, Objects.requireNonNull(file, "file"));
    }

    public static Secret empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** The file this secret was read from; empty when it was given in the config or the environment. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** The clear text, for handing to the library that needs it; never log the result. */
    public String reveal() {
        return value;
    }

    @Override
    public String toString() {
        return value.isEmpty() ? "" : "******";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && value.equals(other.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
