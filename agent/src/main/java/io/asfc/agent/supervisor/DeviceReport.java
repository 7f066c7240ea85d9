package io.asfc.agent.supervisor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the on-host deadman last wrote about {@code watchdog.device} in its status file: one line,
 * {@code <ok|failed> <deadman> <failures> <text>}, rewritten at each change between feeding and
 * failing (a device that cannot be opened, or written to). The deadman is a process of its own: this
 * file is how the agent learns what only the deadman can see.
 *
 * @param fed whether the deadman fed the device at its last change ({@code ok}); false: it cannot
 *     open or write to it, and runs without it
 * @param deadman which deadman wrote it (its session id): its failures are counted from 0
 * @param failures how many times this deadman went from feeding (or starting) to failing
 * @param text what happened, naming the device and the error, e.g. {@code cannot open
 *     watchdog.device /dev/watchdog: Device or resource busy}
 */
public record DeviceReport(boolean fed, String deadman, int failures, String text) {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceReport.class);

    /** The status file next to {@code file}: {@code <file>.watchdog}. */
    public static Path statusFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".watchdog");
    }

    /** The report in {@code status}; empty when there is none yet, or it is being rewritten (half a line). */
    public static Optional<DeviceReport> read(Path status) {
        try {
            return parse(Files.readString(status, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty(); // not written yet: no change to report
        }
    }

    static Optional<DeviceReport> parse(String content) {
        if (!content.endsWith("\n")) {
            return Optional.empty(); // empty, or caught while the deadman rewrites it
        }
        String[] f = content.strip().split(" ", 4);
        if (f.length < 4 || !(f[0].equals("ok") || f[0].equals("failed"))) {
            return Optional.empty();
        }
        try {
            return Optional.of(new DeviceReport(f[0].equals("ok"), f[1], Integer.parseInt(f[2]), f[3]));
        } catch (NumberFormatException e) {
            return Optional.empty(); // not what a deadman writes: nothing to report
        }
    }

    /** Deletes a status file a previous deadman left, so that it is never taken for a new one's. */
    public static void delete(Path status) {
        try {
            Files.deleteIfExists(status);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: the agent may report the previous deadman's watchdog.device state", status, e);
        }
    }
}
