package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The stop-with-agent watchdog and deadman, driven the way the kernel drives it when the agent dies or freezes. */
class WatchdogTest {
    @org.junit.jupiter.api.io.TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process p : started) {
            ProcessTable.snapshot().tree(p.pid()).forEach(i -> ProcessHandle.of(i.pid())
                    .ifPresent(ProcessHandle::destroyForcibly));
            session(p).forEach(i -> ProcessHandle.of(i.pid()).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void sessionStopsWhenTheAgentsEndOfThePipeCloses() throws Exception {
        Process watchdog = start("sleep 301 & sleep 302 & wait", Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> commands(watchdog).containsAll(List.of("sleep 301", "sleep 302")));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> session.stream()
                .allMatch(TreeStopper::isAlive)); // alive while the agent is

        watchdog.getOutputStream().close(); // what the kernel does when the agent dies, even by SIGKILL

        await().atMost(Duration.ofSeconds(5)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
    }

    @Test
    void childrenThatIgnoreTermAreKilledAfterTheStopTimeout() throws Exception {
        Process watchdog = start("trap '' TERM; sleep 303 & wait", Duration.ofMillis(500));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 303"));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() -> session.stream()
                .allMatch(TreeStopper::isAlive));

        watchdog.getOutputStream().close();

        await().atMost(Duration.ofSeconds(5)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
    }

    @Test
    void exitsWithTheSchedulersStatusAndLeavesNothingBehind() throws Exception {
        Process watchdog = start("exit 7", Duration.ofSeconds(1));

        assertEquals(7, watchdog.waitFor());
        // The shell SIGKILLs its watcher as it exits; the kill lands a moment later.
        await("the watcher ends too")
                .atMost(Duration.ofSeconds(5))
                .until(() -> ProcessTable.snapshot().tree(watchdog.pid()).isEmpty());
    }

    @Test
    void sessionStopsWhenRenewalsStopForTheDeadmanTimeout() throws Exception {
        Process watchdog = start("sleep 304 & wait", Duration.ofMillis(500), Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 304"));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        var pipe = watchdog.getOutputStream();
        for (int i = 0; i < 15; i++) { // the agent renews every 200 ms for 3 s: three deadman timeouts
            pipe.write('\n');
            pipe.flush();
            Thread.sleep(200); // the renewal period, not a wait for a condition
            assertTrue(session.stream().allMatch(TreeStopper::isAlive), "stopped although renewed");
        }

        // no renewal, but the pipe stays open: the agent is frozen, not dead
        await().atMost(Duration.ofSeconds(4)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
        pipe.close();
    }

    /**
     * A whole-host freeze past the deadman timeout (here the deadman alone is frozen, by SIGSTOP: its clock is what
     * matters, and the agent, frozen too, renews nothing): once it resumes, the deadman stops the scheduler within a
     * second, not after the rest of its timeout. bash's {@code read -t} does not count the time frozen: the kernel
     * restarts the interrupted wait with the time that was left.
     */
    @Test
    void afterAFreezePastItsTimeoutTheDeadmanActsWithinASecondOfResuming() throws Exception {
        Process watchdog = start("sleep 318 & wait", Duration.ofMillis(500), Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 318"));
        List<ProcessInfo> scheduler = ProcessTable.snapshot().tree(watchdog.pid()).stream()
                .filter(p -> !Watchdog.isShell(p))
                .toList();
        ProcessInfo deadman = session(watchdog).stream()
                .filter(p -> p.pid() != watchdog.pid() && Watchdog.isShell(p))
                .findFirst()
                .orElseThrow();
        var pipe = watchdog.getOutputStream();
        pipe.write('\n'); // a renewal: 5 s from now
        pipe.flush();

        signal("STOP", deadman.pid());
        Thread.sleep(6_000); // the freeze, past the deadman timeout
        signal("CONT", deadman.pid());

        await("the scheduler stopped within a second of the resume (plus the stop)")
                .atMost(Duration.ofSeconds(4)) // before the fix: the rest of the 5 s timeout after the resume
                .until(() -> scheduler.stream().noneMatch(TreeStopper::isAlive));
        pipe.close();
    }

    private static void signal(String signal, long pid) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                        .start()
                        .waitFor());
    }

    @Test
    void theDeviceIsFedWhileTheSchedulerRunsAndDisarmedAfterACleanStop() throws Exception {
        Path device = Files.createFile(dir.resolve("watchdog"));
        Process watchdog = start("sleep 311 & wait", Duration.ofSeconds(2), Duration.ofSeconds(60), device);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 311"));
        await("fed at least once a second").atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) >= 3);
        assertFalse(endsWithV(device), "disarmed while the scheduler runs");
        assertTrue(
                commands(watchdog).contains("sleep 311") && !holds(schedulerPid(), device),
                "the scheduler must not inherit the device");

        // a clean stop: SIGTERM to the whole session, the feeder included (it ignores SIGTERM)
        TreeStopper.Result r = new TreeStopper(System::nanoTime)
                .stop(ProcessTable.snapshot().tree(watchdog.pid()), Duration.ofSeconds(2));
        assertTrue(r.stopped());

        await("the feeder disarms and exits once the session is gone")
                .atMost(Duration.ofSeconds(5))
                .until(() -> session(watchdog).isEmpty() && endsWithV(device));
    }

    @Test
    void theDeviceIsDisarmedWhenTheSchedulerExitsOnItsOwn() throws Exception {
        Path device = Files.createFile(dir.resolve("watchdog"));
        Process watchdog = start("sleep 1.5; exit 3", Duration.ofSeconds(1), Duration.ofSeconds(60), device);

        assertEquals(3, watchdog.waitFor());
        await().atMost(Duration.ofSeconds(5)).until(() -> session(watchdog).isEmpty() && endsWithV(device));
    }

    @Test
    void afterTheDeadmanStoppedTheSchedulerOfAFrozenAgentTheDeviceIsDisarmed() throws Exception {
        Path device = Files.createFile(dir.resolve("watchdog"));
        Process watchdog = start("sleep 312 & wait", Duration.ofMillis(500), Duration.ofSeconds(2), device);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 312"));
        Set<ProcessInfo> scheduler = ProcessTable.snapshot().tree(watchdog.pid());
        var pipe = watchdog.getOutputStream();
        for (int i = 0; i < 10; i++) { // renewed every 200 ms for 2 s: one deadman timeout
            pipe.write('\n');
            pipe.flush();
            Thread.sleep(200); // the renewal period, not a wait for a condition
        }
        assertTrue(scheduler.stream().allMatch(TreeStopper::isAlive), "stopped although renewed");
        long fed = Files.size(device);

        // no renewal, pipe open: the agent froze; the deadman did its job, so the host is not reset
        await().atMost(Duration.ofSeconds(6)).until(() -> scheduler.stream().noneMatch(TreeStopper::isAlive));
        await().atMost(Duration.ofSeconds(5)).until(() -> session(watchdog).isEmpty() && endsWithV(device));
        assertTrue(Files.size(device) > fed, "fed while the deadman waited and stopped the scheduler");
        pipe.close();
    }

    @Test
    void afterTheAgentDiedAndItsSchedulerWasStoppedTheDeviceIsDisarmed() throws Exception {
        Path device = Files.createFile(dir.resolve("watchdog"));
        Process watchdog = start("sleep 313 & wait", Duration.ofSeconds(1), Duration.ofSeconds(60), device);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 313"));
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) >= 1);

        watchdog.getOutputStream().close(); // the agent died

        await().atMost(Duration.ofSeconds(5)).until(() -> session(watchdog).isEmpty() && endsWithV(device));
    }

    @Test
    void aFrozenDeadmanStopsFeedingAndNeverDisarms() throws Exception {
        Path device = Files.createFile(dir.resolve("watchdog"));
        Process watchdog = start("sleep 314 & wait", Duration.ofSeconds(1), Duration.ofSeconds(60), device);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 314"));
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) >= 2);
        ProcessInfo feeder = session(watchdog).stream()
                .filter(p -> p.pid() != watchdog.pid() && p.cmdline().contains("asfc-scheduler-watchdog"))
                .findFirst()
                .orElseThrow();

        new ProcessBuilder("kill", "-STOP", Long.toString(feeder.pid())).start().waitFor();
        long fed = Files.size(device);

        // what a frozen host looks like to the kernel: no more feeds, and no magic close
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) == fed);
        assertFalse(endsWithV(device));
    }

    @Test
    void aMissingDeviceLeavesTheDeadmanWorking() throws Exception {
        Process watchdog =
                start("sleep 315 & wait", Duration.ofSeconds(1), Duration.ofSeconds(60), dir.resolve("no-such-device"));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 315"));
        Set<ProcessInfo> scheduler = ProcessTable.snapshot().tree(watchdog.pid());

        watchdog.getOutputStream().close();

        await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.stream().noneMatch(TreeStopper::isAlive));
        assertFalse(Files.exists(dir.resolve("no-such-device")), "must never create the device");
    }

    @Test
    void aDeviceThatCannotBeOpenedIsReportedAndTheDeadmanStillStopsTheSchedulerWhenRenewalsStop() throws Exception {
        Path device = Files.createDirectory(dir.resolve("not-a-device")); // opening it for writing fails, even as root
        Process watchdog = start("sleep 316 & wait", Duration.ofMillis(500), Duration.ofSeconds(2), device);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 316"));
        Set<ProcessInfo> scheduler = ProcessTable.snapshot().tree(watchdog.pid());

        DeviceReport report = await().atMost(Duration.ofSeconds(5))
                .until(() -> DeviceReport.read(status()), Optional::isPresent)
                .orElseThrow();
        assertFalse(report.fed(), report::toString);
        assertEquals(Long.toString(watchdog.pid()), report.deadman(), "the session names the deadman");
        assertEquals(1, report.failures());
        assertEquals("cannot open watchdog.device " + device + ": Is a directory", report.text());

        // no renewal at all: the deadman without its device still stops the scheduler (S1)
        await().atMost(Duration.ofSeconds(6)).until(() -> scheduler.stream().noneMatch(TreeStopper::isAlive));
        assertEquals(Optional.of(report), DeviceReport.read(status()), "retried every second, reported once");
        watchdog.getOutputStream().close();
    }

    @Test
    void aDeviceThatRefusesWritesIsReportedWithItsError() throws Exception {
        Path full = Path.of("/dev/full"); // opens, but every write fails with ENOSPC
        Process watchdog = start("sleep 317 & wait", Duration.ofSeconds(1), Duration.ofSeconds(60), full);
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 317"));

        DeviceReport report = await().atMost(Duration.ofSeconds(5))
                .until(() -> DeviceReport.read(status()), Optional::isPresent)
                .orElseThrow();
        assertFalse(report.fed(), report::toString);
        assertEquals("cannot write to watchdog.device /dev/full: No space left on device", report.text());
        await().during(Duration.ofMillis(2500))
                .atMost(Duration.ofSeconds(4))
                .until(() -> DeviceReport.read(status()).orElseThrow().failures() == 1); // opened again, fails again
        watchdog.getOutputStream().close();
    }

    @Test
    void aDeviceThatAppearsLaterIsFedAndReportedSo() throws Exception {
        Path device = dir.resolve("late-device");
        Process watchdog = start("sleep 318 & wait", Duration.ofSeconds(1), Duration.ofSeconds(60), device);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> DeviceReport.read(status()).filter(r -> !r.fed()).isPresent());
        assertEquals(
                "watchdog.device " + device + " does not exist",
                DeviceReport.read(status()).orElseThrow().text());

        Files.createFile(device);

        DeviceReport fed = await().atMost(Duration.ofSeconds(5))
                .until(() -> DeviceReport.read(status()), r -> r.filter(DeviceReport::fed)
                        .isPresent())
                .orElseThrow();
        assertEquals(1, fed.failures(), "the failure before stays counted");
        assertEquals("feeding watchdog.device " + device, fed.text());
        watchdog.getOutputStream().close();
        await().atMost(Duration.ofSeconds(5)).until(() -> session(watchdog).isEmpty() && endsWithV(device));
    }

    private Path status() {
        return dir.resolve("device.status");
    }

    private long schedulerPid() throws Exception {
        return Long.parseLong(Files.readString(dir.resolve("child.pid")).trim());
    }

    private static boolean holds(long pid, Path file) {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            Path real = file.toRealPath();
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (Exception e) {
                    return false; // closed meanwhile
                }
            });
        } catch (Exception e) {
            return false; // gone
        }
    }

    private static boolean endsWithV(Path device) throws Exception {
        byte[] bytes = Files.readAllBytes(device);
        return bytes.length > 0 && bytes[bytes.length - 1] == 'V';
    }

    /** Every live process of the watchdog's session, the detached feeder included. */
    private static List<ProcessInfo> session(Process watchdog) {
        return ProcessTable.snapshot().matching(p -> p.sid() == watchdog.pid() && !p.isZombie());
    }

    private Process start(String command, Duration stopTimeout) throws Exception {
        return start(command, stopTimeout, Duration.ofSeconds(60));
    }

    private Process start(String command, Duration stopTimeout, Duration deadman) throws Exception {
        return start(command, stopTimeout, deadman, null);
    }

    private Process start(String command, Duration stopTimeout, Duration deadman, Path device) throws Exception {
        Process p = new ProcessBuilder(Watchdog.command(
                        command,
                        stopTimeout,
                        dir.resolve("child.pid"),
                        deadman,
                        Optional.ofNullable(device),
                        Optional.of(status())))
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(new File("/dev/null"))
                .start();
        started.add(p);
        return p;
    }

    private static List<String> commands(Process root) {
        return ProcessTable.snapshot().tree(root.pid()).stream()
                .map(ProcessInfo::cmdline)
                .toList();
    }
}
