package io.asfc.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code scheduler.watchdog.device}: what can be known of a Linux watchdog device without opening it
 * (opening one starts its timer). Its timeout is the driver's (softdog: {@code soft_margin}), read
 * from {@code /sys/class/watchdog/<name>/timeout}; {@code /dev/watchdog} is {@code watchdog0}. Each
 * reader also takes the place sysfs is mounted at, so that a test can use a directory of its own.
 */
public final class WatchdogDevice {
    private static final Path SYSFS = Path.of("/sys");
    /** What softdog calls itself in {@code /sys/class/watchdog/<name>/identity}. */
    private static final String SOFTDOG = "Software Watchdog";

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
        return timeout(device, SYSFS);
    }

    /**
     * Whether the device's driver has nowayout set ({@code CONFIG_WATCHDOG_NOWAYOUT}, or the
     * driver's {@code nowayout=1}): then the magic close cannot disarm it, and the host resets after
     * the device's timeout once the deadman stops feeding it, after every scheduler stop. Read from
     * {@code <sysfs>/class/watchdog/<name>/nowayout}; without it (an old kernel, no {@code
     * CONFIG_WATCHDOG_SYSFS}) from softdog's module parameter, when the device is softdog (its
     * identity says so, or is unknown) and the parameter is exposed. Empty when unknown.
     */
    public static Optional<Boolean> nowayout(Path device, Path sysfs) {
        Optional<Path> entry = entry(device, sysfs);
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> own = read(entry.get().resolve("nowayout"));
        if (own.isPresent()) {
            return flag(own.get());
        }
        boolean softdog =
                read(entry.get().resolve("identity")).map(SOFTDOG::equals).orElse(true);
        return softdog
                ? read(sysfs.resolve("module/softdog/parameters/nowayout")).flatMap(WatchdogDevice::flag)
                : Optional.empty();
    }

    /** {@link #nowayout(Path, Path)} in {@code /sys}. */
    public static Optional<Boolean> nowayout(Path device) {
        return nowayout(device, SYSFS);
    }

    /** A sysfs attribute ("1", "0") or a bool module parameter ("Y", "N"). */
    private static Optional<Boolean> flag(String value) {
        return switch (value) {
            case "1", "Y", "y" -> Optional.of(true);
            case "0", "N", "n" -> Optional.of(false);
            default -> Optional.empty();
        };
    }

    /**
     * What an operator must know when the device has nowayout set; empty otherwise. Not a config
     * error: S1 loses nothing (a reset only stops more), but every scheduler stop on this host (a
     * move away, {@code asfc-agent stop}, a self-fence) resets it a device timeout later.
     */
    public static Optional<String> nowayoutWarning(Path device) {
        return nowayoutWarning(device, SYSFS);
    }

    /** {@link #nowayoutWarning(Path)}, with sysfs mounted at {@code sysfs}. */
    public static Optional<String> nowayoutWarning(Path device, Path sysfs) {
        if (!nowayout(device, sysfs).orElse(false)) {
            return Optional.empty();
        }
        return Optional.of("watchdog.device " + device + " has nowayout set: the magic close cannot disarm it, so"
                + " every scheduler stop on this host (a move to another node, a failover, asfc-agent stop, a"
                + " self-fence) resets this host "
                + timeout(device, sysfs).map(t -> t.toSeconds() + "s").orElse("a device timeout")
                + " later, unless the agent starts the scheduler again before that; reload the driver without"
                + " nowayout (softdog: nowayout=0) unless that is what you want");
    }

    /** {@link #timeout(Path)}, with sysfs mounted at {@code sysfs} ({@code /sys}; a directory of its own in tests). */
    public static Optional<Duration> timeout(Path device, Path sysfs) {
        Optional<Path> entry = entry(device, sysfs);
        if (entry.isEmpty()) {
            return Optional.empty(); // no such device: problem() says so
        }
        try {
            long seconds = Long.parseLong(read(entry.get().resolve("timeout")).orElse(""));
            return seconds > 0 ? Optional.of(Duration.ofSeconds(seconds)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty(); // not a watchdog sysfs knows (a stand-in), or an old kernel
        }
    }

    /** The device's directory under {@code <sysfs>/class/watchdog}, whether or not it exists. */
    private static Optional<Path> entry(Path device, Path sysfs) {
        String name;
        try {
            name = device.toRealPath().getFileName().toString();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // no such device
        }
        if (name.equals("watchdog")) {
            name = "watchdog0"; // the legacy misc device is the first watchdog
        }
        return Optional.of(sysfs.resolve("class").resolve("watchdog").resolve(name));
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file).trim());
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // absent: an old kernel, no CONFIG_WATCHDOG_SYSFS, or not a watchdog
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
