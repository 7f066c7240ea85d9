package io.asfc.common.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What a pid file says: nothing (no file), a pid, or something unusable (unreadable, empty, not a
 * number). A scheduler writing its pid file can be caught half-way, so "unusable" is not "absent".
 */
public record PidFileEntry(Kind kind, long pid, String problem) {
    public enum Kind {
        ABSENT,
        PID,
        UNUSABLE
    }

    public static PidFileEntry read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return new PidFileEntry(Kind.ABSENT, 0, null); // no pid file: nothing runs
        } catch (IOException e) {
            return unusable("cannot read pid file " + file + ": " + e);
        }
        try {
            long pid = Long.parseLong(text);
            return pid > 0 ? new PidFileEntry(Kind.PID, pid, null) : unusable("bad pid in " + file + ": " + text);
        } catch (NumberFormatException e) {
            return unusable("no pid in " + file + ": \"" + abbreviate(text) + "\"");
        }
    }

    private static PidFileEntry unusable(String problem) {
        return new PidFileEntry(Kind.UNUSABLE, 0, problem);
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
