package io.asfc.common.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * When a process started, on the wall clock: the boot time ({@code btime} in /proc/stat) plus its
 * start ticks, counted at USER_HZ = 100 per second, the fixed unit of /proc on Linux.
 */
public final class ProcessClock {
    private static final long USER_HZ = 100;
    private static final Optional<Instant> BOOT = readBootTime(Path.of("/proc/stat"));

    private ProcessClock() {}

    public static Optional<Instant> startOf(ProcessInfo process) {
        return BOOT.map(boot -> boot.plusMillis(process.startTicks() * 1000 / USER_HZ));
    }

    public static Optional<Instant> readBootTime(Path stat) {
        try {
            return Files.readAllLines(stat).stream()
                    .filter(line -> line.startsWith("btime "))
                    .map(line -> Instant.ofEpochSecond(
                            Long.parseLong(line.substring(6).trim())))
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // start times are informative only ("since" stays unknown)
        }
    }
}
