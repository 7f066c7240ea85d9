package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.S4Budget;
import io.asfc.common.config.SettingsLoader;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.testing.StandIn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Child mode's stop against the stand-in: SIGKILL comes after {@code stop-timeout} while the main
 * process runs, after {@code orphan-stop-timeout} once it is gone. The stand-in's
 * {@code --worker-ignores-term} worker behaves like Airflow 3.3's LocalExecutor workers.
 */
class ChildRunnerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String WORKER = "airflow worker -- LocalExecutor";

    @TempDir
    Path dir;

    private StandIn standIn;

    @BeforeEach
    void standIn() {
        standIn = new StandIn(dir);
    }

    @AfterEach
    void killStandIns() {
        standIn.killAll();
    }

    @Test
    void whatADeadMainLeftIsKilledAfterTheOrphanStopTimeout() throws Exception {
        ChildRunner runner = runner("--worker-ignores-term", "30s", "300ms");
        runner.start();
        ProcessInfo main = awaitMainAndWorker();

        // under load the worker bears its title a moment before it ignores SIGTERM: wait for that
        await().atMost(WAIT).until(() -> session(main).stream()
                .filter(p -> p.cmdline().startsWith(WORKER))
                .allMatch(p -> ignoresTerm(p.pid())));
        ProcessHandle.of(main.pid()).orElseThrow().destroyForcibly(); // kill -9 of the main process
        await().atMost(WAIT).until(() -> !runner.status().running());
        List<ProcessInfo> left = session(main);
        assertTrue(left.stream().anyMatch(p -> p.cmdline().startsWith(WORKER)), "the worker outlives its main");

        long began = System.nanoTime();
        TreeStopper.Result result = runner.stop();
        Duration took = Duration.ofNanos(System.nanoTime() - began);

        assertTrue(result.stopped(), result::toString);
        assertEquals(1, result.killed(), "only the worker, which ignores SIGTERM, needs SIGKILL: " + result);
        // Which timeout applied, not how fast: the orphan-stop-timeout (300 ms) and not the stop-timeout (30 s). Any
        // time short of the 30 s tells them apart; 25 s leaves a loaded machine all the room it needs.
        assertTrue(took.compareTo(Duration.ofSeconds(25)) < 0, "took " + took + ", not stop-timeout (30s)");
        assertTrue(left.stream().noneMatch(TreeStopper::isAlive), "left: " + left);
    }

    @Test
    void aSessionRecordedBeforeARebootIsNeverAdoptedNorSignalled() throws Exception {
        // A live process with the recorded pid and start time: after a reboot such a pid can be anything.
        ProcessInfo self = ProcessTable.read(ProcessHandle.current().pid()).orElseThrow();
        Path state = dir.resolve("run/scheduler-a.session");
        Files.createDirectories(state.getParent());
        Files.writeString(state, self.pid() + " " + self.startTicks() + " 0 " + self.pid() + " another-boot-id\n");

        ChildRunner runner = runner("", "3s", "1s");

        assertFalse(runner.status().running(), "a session of another boot is not ours");
        assertEquals(0, runner.stop().terminated() + runner.stop().killed(), "and nothing is signalled");
        assertTrue(ProcessHandle.current().isAlive());

        // The same record from this boot is adopted, as before.
        Files.writeString(
                state, self.pid() + " " + self.startTicks() + " 0 " + self.pid() + " " + ChildSession.bootId() + "\n");
        assertTrue(ChildRunner.recorded(state).running(), "a session of this boot is found again");
    }

    @Test
    void aRunningMainGetsTheWholeStopTimeout() throws Exception {
        ChildRunner runner = runner("--ignore-term", "2s", "100ms");
        runner.start();
        ProcessInfo main = awaitMainAndWorker();

        long began = System.nanoTime();
        TreeStopper.Result result = runner.stop();
        Duration took = Duration.ofNanos(System.nanoTime() - began);

        assertTrue(result.stopped(), result::toString);
        assertTrue(result.killed() >= 1, result::toString);
        assertTrue(took.compareTo(Duration.ofSeconds(2)) >= 0, "SIGKILL came after " + took + ", before stop-timeout");
        assertTrue(!TreeStopper.isAlive(main));
    }

    @Test
    void aRunningMainEndsItsWorkersThatIgnoreSigterm() throws Exception {
        ChildRunner runner = runner("--worker-ignores-term", "30s", "300ms");
        runner.start();
        ProcessInfo main = awaitMainAndWorker();
        List<ProcessInfo> tree = session(main);

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertEquals(0, result.killed(), "the main stops its worker; nothing needs SIGKILL: " + result);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), "left: " + tree);
    }

    @Test
    void theDeadmanStopsTheSchedulerWhenRenewalsStop() throws Exception {
        // deadman-timeout 1s, self-fence-stop-timeout 1s; the stand-in ignores SIGTERM, so SIGKILL ends it
        ChildRunner runner =
                runner("--ignore-term", "30s", "300ms", "deadman-timeout = 1s, self-fence-stop-timeout = 1s");
        // the agent renews every 200 ms from the start on, as DeadmanFeeder does (a slow start under load
        // must not look like a frozen agent)
        java.util.concurrent.ScheduledExecutorService renewer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        List<ProcessInfo> tree;
        ProcessInfo main;
        try {
            renewer.scheduleWithFixedDelay(runner::renew, 0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
            runner.start();
            main = awaitMainAndWorker();
            tree = session(main);

            // renewed for three deadman timeouts: it keeps running
            ProcessInfo renewed = main;
            await("stopped although renewed")
                    .during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> TreeStopper.isAlive(renewed));
        } finally {
            renewer.shutdownNow();
            renewer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        }

        // renewals stop (the agent froze, or lost ZooKeeper): gone within deadman + stop timeout (+ slack)
        long stopped = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> tree.stream().noneMatch(TreeStopper::isAlive));
        Duration took = Duration.ofNanos(System.nanoTime() - stopped);
        assertTrue(
                took.compareTo(Duration.ofMillis(900)) >= 0, "stopped after " + took + ", before the deadman timeout");
        await().atMost(WAIT).until(() -> !runner.status().running());
        assertTrue(Files.readString(dir.resolve("scheduler-a.out")).contains("(deadman)"), "the output says why");
    }

    @Test
    void theWatchdogDeviceIsFedByAFeederThatIsSupervisedAndDisarmedBeforeTheStopReturns() throws Exception {
        // the stand-in ignores SIGTERM: the stop SIGKILLs it, but never the feeder (that would leave the device armed)
        Path device = Files.createFile(dir.resolve("watchdog-standin"));
        ChildRunner runner = runner("--ignore-term", "1s", "1s", "watchdog.device = \"" + device + "\"");
        runner.start();
        ProcessInfo main = awaitMainAndWorker();
        await("fed").atMost(WAIT).until(() -> Files.size(device) >= 2);
        long sid = ProcessTable.read(main.pid()).orElseThrow().sid();
        ProcessTable table = ProcessTable.snapshot();
        List<ProcessInfo> feeder = table.matching(p -> p.sid() == sid && p.pid() != sid && !p.isZombie()).stream()
                .filter(p -> p.cmdline().contains("asfc-scheduler-watchdog"))
                .toList();
        assertEquals(1, feeder.size(), () -> "one detached feeder: " + table.matching(p -> p.sid() == sid));
        assertTrue(
                runner.supervised(table).orElseThrow().processes().contains(feeder.get(0)),
                "the feeder matches process-pattern (its argv holds the start command) but is never foreign");

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertTrue(result.killed() > 0, "the stand-in needed SIGKILL: " + result);
        byte[] fed = Files.readAllBytes(device);
        assertEquals('V', fed[fed.length - 1], "disarmed (magic close) before the stop returned");
        assertTrue(ProcessTable.snapshot()
                .matching(p -> p.sid() == sid && !p.isZombie())
                .isEmpty());
    }

    @Test
    void aWatchdogDeviceThatCannotBeFedIsReportedAndTheSchedulerStillRunsAndStops() throws Exception {
        ChildRunner runner = runner("", "1s", "1s", "watchdog.device = \"/dev/full\""); // every write fails
        runner.start();
        awaitMainAndWorker();

        DeviceReport report = await().atMost(WAIT)
                .until(runner::watchdogDevice, java.util.Optional::isPresent)
                .orElseThrow();

        assertFalse(report.fed(), report::toString);
        assertEquals("cannot write to watchdog.device /dev/full: No space left on device", report.text());
        assertTrue(runner.status().running(), "runs without the device (docs/SAFETY.md)");
        assertTrue(runner.stop().stopped());
        runner.start(); // a new session: the previous one's report is gone until the new watchdog writes its own
        assertTrue(runner.watchdogDevice()
                .map(r -> !r.deadman().equals(report.deadman()))
                .orElse(true));
        assertTrue(runner.stop().stopped());
    }

    @Test
    void aProcessForkedWhileTheStopRunsIsStoppedToo() throws Exception {
        // On SIGTERM the scheduler starts a helper that was in no snapshot taken before the stop, then exits.
        // Without the watchdog (stop-with-agent off) nothing but the runner's own stop can end that helper.
        String script = "trap 'sleep 311 & exit 0' TERM; while :; do sleep 0.05; done";
        ChildRunner runner = runner("", "5s", "1s", "stop-with-agent = false", script);
        runner.start();
        await().atMost(WAIT).until(() -> runner.status().running());

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        List<ProcessInfo> late = ProcessTable.snapshot().all().stream()
                .filter(p -> p.cmdline().equals("sleep 311"))
                .toList();
        late.forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
        assertEquals(List.of(), late, "the helper forked during the stop outlived it");
    }

    private ChildRunner runner(String standInArgs, String stopTimeout, String orphanStopTimeout) throws Exception {
        return runner(standInArgs, stopTimeout, orphanStopTimeout, "");
    }

    private ChildRunner runner(String standInArgs, String stopTimeout, String orphanStopTimeout, String more)
            throws Exception {
        return runner(standInArgs, stopTimeout, orphanStopTimeout, more, null);
    }

    /** With {@code script} as the start command instead of the stand-in. */
    private ChildRunner runner(
            String standInArgs, String stopTimeout, String orphanStopTimeout, String more, String script)
            throws Exception {
        Path conf = dir.resolve("asfc.conf");
        Files.writeString(
                conf,
                """
                asfc {
                  node.id = a
                  zookeeper.connect = "127.0.0.1:1"
                  scheduler { mode = child, stop-timeout = %s, orphan-stop-timeout = %s, %s }
                }
                """
                                .formatted(stopTimeout, orphanStopTimeout, more)
                        + standIn.config("a", standInArgs)
                        + (script == null ? "" : "asfc.scheduler.start-command = \"\"\"" + script + "\"\"\"\n"));
        AsfcSettings all = new SettingsLoader(dir, () -> "a").load(conf);
        return new ChildRunner(
                "a",
                all.scheduler(),
                S4Budget.of(all).deadman(),
                dir.resolve("run/scheduler-a.session"),
                dir.resolve("scheduler-a.out"),
                new TreeStopper(System::nanoTime),
                Clock.systemUTC());
    }

    /** Whether SIGTERM is ignored by {@code pid} ({@code SigIgn} in /proc/pid/status, bit 15 - 1). */
    private static boolean ignoresTerm(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 14)) != 0;
                }
            }
        } catch (java.io.IOException e) {
            return false; // gone
        }
        return false;
    }

    /** The stand-in's main process, once its worker runs. */
    private ProcessInfo awaitMainAndWorker() {
        await().atMost(WAIT).until(() -> {
            ProcessInfo main = standIn.mains().get("a");
            return main != null
                    && session(main).stream().anyMatch(p -> p.cmdline().startsWith(WORKER));
        });
        return standIn.mains().get("a");
    }

    /** The stand-in's helpers in the main's session. */
    private List<ProcessInfo> session(ProcessInfo main) {
        return standIn.all().stream().filter(p -> p.sid() == main.sid()).toList();
    }
}
