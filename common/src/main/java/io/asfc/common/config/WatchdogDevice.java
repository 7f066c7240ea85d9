package io.asfc.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code scheduler.watchdog.device}: what can be known of a Linux watchdog device without opening it
 * (opening one starts its timer). Its timeout is the driver's (softdog: {@code soft_margin}), read
 * from {@code /sys/class/watchdog/<name>/timeout}; {@code /dev/watchdog} is {@code watchdog0}.
 */
public final class WatchdogDevice {
    private static final Path SYS_CLASS = Path.of("/sys/class/watchdog");
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;

    private WatchdogDevice() {}

    /** Why {@code device} cannot be fed by this user; empty when it can (a character device, or a writable file). */
    static Optional<String> problem(Path device) {
        if (!Files.exists(device)) {
            return Optional.of(device + " does not exist (modprobe softdog, or a hardware watchdog driver)");
        }
        if (!isCharacterDevice(device) && !Files.isRegularFile(device)) {
            return Optional.of(device + " is neither a character device nor a file");
        }
        if (!Files.isWritable(device)) {
            return Optional.of(device + " is not writable by this user (e.g. chown it to the agent's user)");
        }
        return Optional.empty();
    }

    /** The device's timeout as its driver reports it; empty when unknown (no sysfs entry, a stand-in file). */
    public static Optional<Duration> timeout(Path device) {
        return timeout(device, SYS_CLASS);
    }

    static Optional<Duration> timeout(Path device, Path sysClass) {
        String name;
        try {
            name = device.toRealPath().getFileName().toString();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // no such device: problem() says so
        }
        if (name.equals("watchdog")) {
            name = "watchdog0"; // the legacy misc device is the first watchdog
        }
        try {
            long seconds = Long.parseLong(
                    Files.readString(sysClass.resolve(name).resolve("timeout")).trim());
            return seconds > 0 ? Optional.of(Duration.ofSeconds(seconds)) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // not a watchdog sysfs knows (a stand-in), or an old kernel
        }
    }

    /**
     * Why the device's timeout breaks the S4 budget, naming each term; empty when it fits. A whole
     * host that freezes just before its deadman would act was fed until then, so it is reset at
     * most {@code deadman-timeout + timeout} after its last renewal; another host may start a
     * scheduler after {@code session-timeout + takeover-grace}.
     */
    public static Optional<String> budgetProblem(S4Budget budget, Path device, Duration timeout) {
        Duration resetBy = budget.deadman().plus(timeout);
        if (resetBy.compareTo(budget.takeoverAfter()) < 0) {
            return Optional.empty();
        }
        return Optional.of("the S4 budget does not hold for the watchdog device " + device
                + ": a frozen host is reset only " + resetBy.toMillis() + "ms after its agent's last renewal"
                + " (scheduler.deadman-timeout " + budget.deadman().toMillis() + "ms + the device's timeout "
                + timeout.toMillis() + "ms), but another host may start a scheduler after "
                + budget.takeoverAfter().toMillis() + "ms (zookeeper.session-timeout + controller.takeover-grace);"
                + " lower the driver's timeout (softdog: soft_margin), or lengthen takeover-grace");
    }

    private static boolean isCharacterDevice(Path path) {
        try {
            return ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) == S_IFCHR;
        } catch (IOException | RuntimeException e) {
            return false; // no unix attribute view: the other checks decide
        }
    }
}
