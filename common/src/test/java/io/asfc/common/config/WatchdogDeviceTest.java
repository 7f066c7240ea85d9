package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchdogDeviceTest {
    @TempDir
    Path dir;

    @Test
    void theTimeoutIsTheDriversAsSysfsReportsItAndDevWatchdogIsWatchdog0() throws IOException {
        Path sys = dir.resolve("sys");
        Files.createDirectories(sys.resolve("class/watchdog/watchdog0"));
        Files.writeString(sys.resolve("class/watchdog/watchdog0/timeout"), "5\n");
        Path device = Files.createFile(dir.resolve("watchdog"));

        assertEquals(Optional.of(Duration.ofSeconds(5)), WatchdogDevice.timeout(device, sys));
        assertEquals(
                Optional.empty(),
                WatchdogDevice.timeout(Files.createFile(dir.resolve("watchdog1")), sys),
                "no sysfs entry: unknown");
        assertEquals(Optional.empty(), WatchdogDevice.timeout(dir.resolve("missing"), sys));
    }

    @Test
    void nowayoutIsReadFromTheDriversSysfsEntryElseFromSoftdogsModuleParameter() throws IOException {
        Path sys = dir.resolve("sys");
        Path entry = Files.createDirectories(sys.resolve("class/watchdog/watchdog0"));
        Path device = Files.createFile(dir.resolve("watchdog"));

        assertEquals(Optional.empty(), WatchdogDevice.nowayout(device, sys), "nothing in sysfs: unknown");

        Path param = Files.createDirectories(sys.resolve("module/softdog/parameters"))
                .resolve("nowayout");
        Files.writeString(param, "Y\n");
        assertEquals(Optional.of(true), WatchdogDevice.nowayout(device, sys), "softdog's parameter, a bool");
        Files.writeString(entry.resolve("identity"), "iTCO_wdt\n");
        assertEquals(
                Optional.empty(), WatchdogDevice.nowayout(device, sys), "softdog's parameter says nothing of iTCO_wdt");
        Files.writeString(entry.resolve("identity"), "Software Watchdog\n");
        Files.writeString(param, "N\n");
        assertEquals(Optional.of(false), WatchdogDevice.nowayout(device, sys));

        Files.writeString(entry.resolve("nowayout"), "1\n");
        assertEquals(Optional.of(true), WatchdogDevice.nowayout(device, sys), "the driver's own entry wins");
        Files.writeString(entry.resolve("nowayout"), "0\n");
        assertEquals(Optional.of(false), WatchdogDevice.nowayout(device, sys));
        assertEquals(Optional.empty(), WatchdogDevice.nowayout(dir.resolve("missing"), sys));
    }

    @Test
    void aTimeoutThatResetsTheHostAfterAnotherMayTakeOverBreaksTheBudget() {
        Duration session = Duration.ofSeconds(10);
        Duration selfFenceAfter = Duration.ofSeconds(3);
        S4Budget defaults = new S4Budget(
                session,
                selfFenceAfter,
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                S4Budget.deadmanDefault(session, selfFenceAfter));
        Path device = Path.of("/dev/watchdog");

        assertTrue(
                WatchdogDevice.budgetProblem(defaults, device, Duration.ofSeconds(5))
                        .isEmpty(),
                "softdog soft_margin=5 fits the defaults: 9.7s + 5s < 10s + 5s");
        String problem = WatchdogDevice.budgetProblem(defaults, device, Duration.ofSeconds(60))
                .orElseThrow(); // softdog's own default
        for (String term : new String[] {"/dev/watchdog", "deadman-timeout", "69666ms", "15000ms", "soft_margin"}) {
            assertTrue(problem.contains(term), () -> "names " + term + ": " + problem);
        }
    }

    @Test
    void aDeviceMustExistAndBeWritable() throws IOException {
        assertTrue(WatchdogDevice.problem(dir.resolve("missing")).orElseThrow().contains("does not exist"));
        assertTrue(WatchdogDevice.problem(dir).orElseThrow().contains("neither a character device nor a file"));
        Path file = Files.createFile(dir.resolve("standin"));
        assertEquals(Optional.empty(), WatchdogDevice.problem(file), "a writable stand-in file");
        assertEquals(Optional.empty(), WatchdogDevice.problem(Path.of("/dev/null")), "a writable character device");
        file.toFile().setWritable(false);
        if (!Files.isWritable(file)) { // root may write anything
            assertTrue(WatchdogDevice.problem(file).orElseThrow().contains("not writable"));
        }
    }
}
