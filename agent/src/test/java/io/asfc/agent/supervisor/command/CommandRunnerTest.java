package io.asfc.agent.supervisor.command;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.supervisor.DeviceReport;
import io.asfc.agent.supervisor.LocalStatus;
import io.asfc.agent.supervisor.SchedulerStartException;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessMatcher;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Command mode against the real Airflow stand-in. Each test copies the stand-in into its own
 * temporary directory and scopes the process pattern to that directory, so it never sees (or
 * stops) stand-ins of other tests or other builds on this host. Every process whose command line
 * names that directory, and every pid a helper recorded there, is killed after each test.
 */
class CommandRunnerTest {
    private static final Path STANDIN = Path.of(System.getProperty("user.dir"))
            .resolve("../integration-tests/src/main/standin/airflow_standin.py")
            .normalize();
    private static final String DEFAULT_PATTERN = "airflow (scheduler|executor)|airflow worker -- LocalExecutor";
    private static final List<String> TITLES = List.of(
            "airflow scheduler ",
            "airflow scheduler -- DagFileProcessorManager",
            "airflow scheduler - DagFileProcessor",
            "airflow worker -- LocalExecutor");
    private static final Duration PATIENCE = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    private String standin;
    private final ExecutorService background = Executors.newSingleThreadExecutor();
    private final TreeStopper stopper = new TreeStopper(System::nanoTime);

    @BeforeEach
    void copyStandIn() throws IOException {
        Path copy = tmp.resolve("airflow_standin.py");
        Files.copy(STANDIN, copy);
        standin = "python3 " + copy;
    }

    @AfterEach
    void killEverythingThisTestStarted() throws IOException {
        background.shutdownNow();
        ProcessTable table = ProcessTable.snapshot();
        long self = ProcessHandle.current().pid();
        Stream<Long> named = table.all().stream()
                .filter(p -> p.cmdline().contains(tmp.toString()))
                .map(ProcessInfo::pid);
        Stream<Long> recorded;
        try (Stream<Path> files = Files.list(tmp)) {
            recorded = files
                    .filter(f -> f.toString().endsWith(".pid"))
                    .map(CommandRunnerTest::readPid)
                    .flatMap(Optional::stream)
                    .toList()
                    .stream();
        }
        Stream.concat(named, recorded)
                .flatMap(root -> table.tree(root).stream())
                .filter(p -> p.pid() != self && TreeStopper.isAlive(p))
                .forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void daemonStartReturnsOnceThePidFileIsWrittenAndStopRemovesTheWholeTree() throws Exception {
        Path pidFile = tmp.resolve("s.pid");
        CommandRunner runner = runner(new Config(standin + " --daemon --pid-file " + pidFile).pidFile(pidFile));

        assertTimeoutPreemptively(PATIENCE, runner::start);
        long pid = readPid(pidFile).orElseThrow();
        LocalStatus status = runner.status();
        List<ProcessInfo> tree = awaitStandInTree(pid);

        assertTrue(status.running());
        assertEquals(pid, status.pid());
        assertNotNull(status.since());

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertEquals(0, result.killed(), "the stand-in obeys SIGTERM: " + result);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + tree);
        assertFalse(runner.status().running());
    }

    /**
     * A main killed with SIGKILL leaves its helpers (the stand-in's DagFileProcessorManager lives on when orphaned,
     * as Airflow 3's LocalExecutor workers do): they match process-pattern, but they are no scheduler. The stop
     * that precedes a restart takes them.
     */
    @Test
    void helpersAKilledMainLeftAreNotARunningSchedulerAndTheStopTakesThem() throws Exception {
        CommandRunner runner = runner(new Config("nohup " + standin + " > /dev/null 2>&1 &")
                .helperPattern("airflow scheduler --? |airflow executor -- |airflow worker -- LocalExecutor"));
        assertTimeoutPreemptively(PATIENCE, runner::start);
        LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
        List<ProcessInfo> tree = awaitStandInTree(status.pid());

        ProcessHandle.of(status.pid()).ifPresent(ProcessHandle::destroyForcibly);
        await().atMost(PATIENCE)
                .until(() ->
                        !TreeStopper.isAlive(ProcessTable.read(status.pid()).orElse(tree.get(0))));
        List<ProcessInfo> left = tree.stream()
                .filter(p -> p.pid() != status.pid() && TreeStopper.isAlive(p))
                .toList();
        assertTrue(
                left.stream().anyMatch(p -> p.cmdline().startsWith("airflow scheduler -- DagFileProcessorManager")),
                () -> "the orphaned manager lives on: " + left);

        assertFalse(runner.status().running(), "only helpers are left: " + left);
        TreeStopper.Result result = runner.stop();
        assertTrue(result.stopped(), result::toString);
        assertTrue(left.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + left);
    }

    @Test
    void theDeadmanStopsTheSchedulerWhenTheAgentStopsRenewing() throws Exception {
        // the agent's runner: stop-with-agent, deadman-timeout 1s; the scheduler daemonizes (nohup ... &)
        CommandRunner runner = new CommandRunner(
                "a",
                new Config("nohup " + standin + " > /dev/null 2>&1 &")
                        .stopTimeout(Duration.ofSeconds(1))
                        .build(),
                Duration.ofSeconds(1),
                tmp.resolve("scheduler.out"),
                stopper);
        List<ProcessInfo> tree;
        try (AutoCloseable renewals = renewing(runner)) {
            assertTimeoutPreemptively(PATIENCE, runner::start);
            LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
            tree = awaitStandInTree(status.pid());
            List<ProcessInfo> started = tree;
            await().during(Duration.ofSeconds(3)) // three deadman timeouts, renewed: it lives
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> started.stream().allMatch(TreeStopper::isAlive));
        }

        // renewals stop, the pipe stays open: the agent is frozen
        await().atMost(Duration.ofSeconds(6)).until(() -> tree.stream().noneMatch(TreeStopper::isAlive));
        assertFalse(runner.status().running());
        assertTrue(
                Files.readString(tmp.resolve("scheduler.out.deadman")).contains("(deadman)"),
                "the deadman says why in its output");
    }

    /**
     * A whole-host freeze past the deadman timeout (here the deadman alone is frozen, by SIGSTOP: its clock is what
     * matters, and the agent, frozen too, renews nothing): once it resumes, the deadman stops the scheduler within a
     * second, not after the rest of its timeout (bash's {@code read -t} does not count the time frozen).
     */
    @Test
    void afterAFreezePastItsTimeoutTheDeadmanActsWithinASecondOfResuming() throws Exception {
        // a scheduler no other agent on this machine takes for Airflow: a shell with a child
        Path scheduler = tmp.resolve("scheduler.sh");
        Files.writeString(scheduler, "sleep 100000 & wait\n");
        Config config =
                new Config("nohup /bin/sh " + scheduler + " > /dev/null 2>&1 &").stopTimeout(Duration.ofSeconds(1));
        config.pattern = Pattern.quote("/bin/sh " + scheduler);
        CommandRunner runner =
                new CommandRunner("a", config.build(), Duration.ofSeconds(5), tmp.resolve("scheduler.out"), stopper);
        List<ProcessInfo> tree;
        try (AutoCloseable renewals = renewing(runner)) {
            assertTimeoutPreemptively(PATIENCE, runner::start);
            LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
            tree = await().atMost(PATIENCE)
                    .until(() -> List.copyOf(ProcessTable.snapshot().tree(status.pid())), t -> t.size() == 2);
        }
        Path output = tmp.resolve("scheduler.out.deadman").toRealPath();
        ProcessInfo deadman = ProcessTable.snapshot()
                .matching(p -> p.cmdline().contains("asfc-deadman") && writesTo(p.pid(), output))
                .get(0);
        runner.renew(); // 5 s from now

        signal("STOP", deadman.pid());
        Thread.sleep(6_000); // the freeze, past the deadman timeout
        signal("CONT", deadman.pid());

        await("the scheduler stopped within a second of the resume (plus the stop)")
                .atMost(Duration.ofSeconds(4)) // before the fix: the rest of the 5 s timeout after the resume
                .until(() -> tree.stream().noneMatch(TreeStopper::isAlive));
        assertTrue(Files.readString(output).contains("(deadman)"));
    }

    private static boolean writesTo(long pid, Path file) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/1")).equals(file);
        } catch (IOException e) {
            return false; // gone, or not ours to read
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                        .start()
                        .waitFor());
    }

    @Test
    void theDeadmanFeedsTheWatchdogDeviceFromTheStartAndDisarmsItAfterAStop() throws Exception {
        Path device = Files.createFile(tmp.resolve("watchdog-standin"));
        CommandRunner runner = new CommandRunner(
                "a",
                new Config("nohup " + standin + " > /dev/null 2>&1 &")
                        .stopTimeout(Duration.ofSeconds(1))
                        .device(device)
                        .build(),
                Duration.ofSeconds(60),
                tmp.resolve("scheduler.out"),
                stopper);
        assertTimeoutPreemptively(PATIENCE, runner::start);
        LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
        awaitStandInTree(status.pid());
        await("fed at least once a second").atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) >= 3);
        assertFalse(endsWithV(device), "disarmed while the scheduler runs");

        assertTrue(runner.stop().stopped());

        await("disarmed (magic close) once stopped")
                .atMost(Duration.ofSeconds(5))
                .until(() -> endsWithV(device));
        long disarmed = Files.size(device);
        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(4))
                .until(() -> Files.size(device) == disarmed); // no feed while no scheduler runs
    }

    @Test
    void afterTheDeadmanStoppedAFrozenAgentsSchedulerTheWatchdogDeviceIsDisarmed() throws Exception {
        Path device = Files.createFile(tmp.resolve("watchdog-standin"));
        CommandRunner runner = new CommandRunner(
                "a",
                new Config("nohup " + standin + " > /dev/null 2>&1 &")
                        .stopTimeout(Duration.ofSeconds(1))
                        .device(device)
                        .build(),
                Duration.ofSeconds(2),
                tmp.resolve("scheduler.out"),
                stopper);
        List<ProcessInfo> tree;
        try (AutoCloseable renewals = renewing(runner)) {
            assertTimeoutPreemptively(PATIENCE, runner::start);
            LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
            tree = awaitStandInTree(status.pid());
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.size(device) >= 2);
        }

        // renewals stop, the pipe stays open: the agent is frozen; the deadman did its job, no reset
        await().atMost(Duration.ofSeconds(8)).until(() -> tree.stream().noneMatch(TreeStopper::isAlive));
        await().atMost(Duration.ofSeconds(8)).until(() -> endsWithV(device));
    }

    @Test
    void aWatchdogDeviceTheDeadmanCannotFeedIsReportedAndTheDeadmanStillStopsTheScheduler() throws Exception {
        Path full = Path.of("/dev/full"); // opens, but every write fails
        CommandRunner runner = new CommandRunner(
                "a",
                new Config("nohup " + standin + " > /dev/null 2>&1 &")
                        .stopTimeout(Duration.ofSeconds(1))
                        .device(full)
                        .build(),
                Duration.ofSeconds(2),
                tmp.resolve("scheduler.out"),
                stopper);
        List<ProcessInfo> tree;
        try (AutoCloseable renewals = renewing(runner)) {
            assertTimeoutPreemptively(PATIENCE, runner::start);
            LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
            tree = awaitStandInTree(status.pid());
            DeviceReport report = await().atMost(Duration.ofSeconds(5))
                    .until(runner::watchdogDevice, Optional::isPresent)
                    .orElseThrow();
            assertFalse(report.fed(), report::toString);
            assertEquals(1, report.failures());
            assertEquals("cannot write to watchdog.device /dev/full: No space left on device", report.text());
        }

        // renewals stop: the deadman, without its device, still stops the scheduler (S1)
        await().atMost(Duration.ofSeconds(8)).until(() -> tree.stream().noneMatch(TreeStopper::isAlive));
        assertTrue(Files.readString(tmp.resolve("scheduler.out.deadman"))
                .contains("asfc deadman: ERROR: cannot write to watchdog.device /dev/full"));
    }

    private static boolean endsWithV(Path device) throws IOException {
        byte[] bytes = Files.readAllBytes(device);
        return bytes.length > 0 && bytes[bytes.length - 1] == 'V';
    }

    @Test
    void nohupStartIsFoundByThePatternAndStoppedAsATree() throws Exception {
        CommandRunner runner = runner(new Config("nohup " + standin + " > /dev/null 2>&1 &"));

        assertTimeoutPreemptively(PATIENCE, runner::start);
        LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
        List<ProcessInfo> tree = awaitStandInTree(status.pid());

        ProcessInfo main = ProcessTable.read(status.pid()).orElseThrow();
        assertTrue(
                main.cmdline().startsWith("airflow scheduler ")
                        && !main.cmdline().contains("--role"),
                main::cmdline);

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertEquals(4, result.terminated(), result::toString);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + tree);
        assertFalse(runner.status().running());
    }

    @Test
    void aStartCommandThatKeepsRunningIsAForegroundSchedulerAfterTheStartTimeout() throws Exception {
        CommandRunner runner = runner(new Config(standin).startTimeout(Duration.ofSeconds(1)));

        assertTimeoutPreemptively(PATIENCE, runner::start);
        LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);

        List<ProcessInfo> tree = awaitStandInTree(status.pid());
        assertTrue(runner.stop().stopped());
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + tree);
    }

    @Test
    void aFailingStartCommandThrowsWithItsExitStatus() {
        CommandRunner failing = runner(new Config(standin + " --fail-at-start"));
        CommandRunner exit3 = runner(new Config("exit 3"));

        SchedulerStartException e = assertThrows(SchedulerStartException.class, failing::start);
        SchedulerStartException e3 = assertThrows(SchedulerStartException.class, exit3::start);

        // events are world-readable znodes: the message (an event's detail) never holds the command
        assertEquals("start-command exited 2", e.getMessage());
        assertEquals("start-command exited 3", e3.getMessage());
        assertTrue(Files.exists(tmp.resolve("scheduler.out")), "the output went to the output file");
    }

    @Test
    void virtualenvAndEnvironmentReachTheCommands() throws Exception {
        Path venv = tmp.resolve("venv");
        Files.createDirectories(venv.resolve("bin"));
        Path script = venv.resolve("bin/which-env");
        Files.writeString(script, "#!/bin/sh\necho \"$VIRTUAL_ENV $AIRFLOW_HOME\" > " + tmp.resolve("env.txt") + "\n");
        script.toFile().setExecutable(true);
        CommandRunner runner =
                runner(new Config("which-env").virtualenv(venv).environment(Map.of("AIRFLOW_HOME", "/af")));

        runner.start();

        assertEquals(venv + " /af", Files.readString(tmp.resolve("env.txt")).trim());
    }

    @Test
    void checkCommandStatusFollowsItsExitStatus() throws Exception {
        Path flag = tmp.resolve("running");
        CommandRunner runner = runner(new Config("true").checkCommand("test -f " + flag));

        assertEquals(LocalStatus.NOT_RUNNING, runner.status());
        Files.createFile(flag);
        assertEquals(new LocalStatus(true, null, null), runner.status());
    }

    @Test
    void aHungCheckIsKilledAndTheUnknownStatusCountsAsRunning() throws Exception {
        Path checkPid = tmp.resolve("check.pid");
        CommandRunner runner = runner(
                new Config("true").checkCommand("echo $$ > " + checkPid + "; exec sleep 100"), Duration.ofMillis(300));

        LocalStatus status = assertTimeoutPreemptively(PATIENCE, runner::status);

        assertTrue(status.running(), "unknown must never lead to a second scheduler: " + status);
        long helper = readPid(checkPid).orElseThrow();
        assertTrue(ProcessTable.read(helper).map(ProcessInfo::isZombie).orElse(true), "the hung check was killed");
    }

    @Test
    void aCheckThatCannotRunCountsAsRunningButAnyOtherFailureAsNotRunning() {
        assertTrue(runner(new Config("true").checkCommand(tmp + "/no-such-check"))
                .status()
                .running());
        assertTrue(runner(new Config("true").checkCommand("kill -TERM $$"))
                .status()
                .running());
        assertFalse(runner(new Config("true").checkCommand("exit 125")).status().running());
    }

    @Test
    void aPidFileWithoutAPidCountsAsRunningAndAStaleOneAsNotRunning() throws Exception {
        Path pidFile = tmp.resolve("stale.pid-file"); // not "*.pid": the cleanup must not trust it
        CommandRunner runner = runner(new Config("true").pidFile(pidFile));

        assertFalse(runner.status().running(), "no pid file");
        Files.writeString(pidFile, "");
        assertTrue(runner.status().running(), "a pid file being written");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(pidFile, gone.pid() + "\n");
        assertFalse(runner.status().running(), "a dead pid");
    }

    @Test
    void whatAStopCommandLeavesBehindIsStoppedAsATree() throws Exception {
        Path pidFile = tmp.resolve("s.pid");
        CommandRunner runner = runner(new Config(standin + " --daemon --pid-file " + pidFile)
                .pidFile(pidFile)
                .stopCommand("true"));
        runner.start();
        List<ProcessInfo> tree = awaitStandInTree(readPid(pidFile).orElseThrow());

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertEquals(4, result.terminated(), result::toString);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + tree);
    }

    @Test
    void processesThatIgnoreTermAreKilledAfterTheStopTimeout() throws Exception {
        Path pidFile = tmp.resolve("s.pid");
        CommandRunner runner = runner(new Config(standin + " --ignore-term --daemon --pid-file " + pidFile)
                .pidFile(pidFile)
                .stopTimeout(Duration.ofMillis(500)));
        runner.start();
        List<ProcessInfo> tree = awaitStandInTree(readPid(pidFile).orElseThrow());

        TreeStopper.Result result = runner.stop();

        assertTrue(result.stopped(), result::toString);
        assertEquals(4, result.killed(), result::toString);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive), () -> "left alive: " + tree);
    }

    @Test
    void aStopCommandThatLooksLikeTheSchedulerIsNeitherSeenNorKilled() throws Exception {
        Path done = tmp.resolve("stop-done");
        String stopCommand = "sh -c 'echo airflow scheduler " + tmp + "; sleep 1; touch " + done + "'";
        Config config = new Config("true").stopCommand(stopCommand);
        CommandRunner runner = runner(config);
        ProcessMatcher naive = new ProcessMatcher(Pattern.compile(config.pattern));

        CompletableFuture<TreeStopper.Result> stopping = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return runner.stop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                },
                background);
        // the helper's command line matches the pattern: without exclusion, it would be a target
        await().atMost(PATIENCE).until(() -> naive.find(ProcessTable.snapshot(), Set.of()).stream()
                .anyMatch(p -> p.cmdline().contains("echo airflow scheduler")));
        LocalStatus duringStop = runner.status();
        TreeStopper.Result result = stopping.get();

        assertFalse(duringStop.running(), "the stop-command's shell is not a scheduler: " + duringStop);
        assertEquals(new TreeStopper.Result(0, 0, List.of()), result);
        assertTrue(Files.exists(done), "the stop-command ran to its end");
    }

    @Test
    void stopNeverSignalsThisJvmEvenWhenThePatternMatchesIt() throws Exception {
        String me =
                ProcessTable.read(ProcessHandle.current().pid()).orElseThrow().cmdline();
        Config config = new Config("nohup " + standin + " > /dev/null 2>&1 &");
        config.pattern = Pattern.quote(me) + "|" + config.pattern;
        CommandRunner runner = runner(config);
        runner.start();
        LocalStatus status = await().atMost(PATIENCE).until(runner::status, LocalStatus::running);
        List<ProcessInfo> tree = awaitStandInTree(status.pid());

        TreeStopper.Result result = runner.stop();

        assertEquals(new TreeStopper.Result(4, 0, List.of()), result);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive));
        assertFalse(runner.status().running(), "this JVM is not a scheduler");
        assertNull(runner.status().pid());
    }

    /** Waits for the four processes of the stand-in under {@code main} and returns them. */
    private static List<ProcessInfo> awaitStandInTree(long main) {
        return await().atMost(PATIENCE)
                .until(() -> List.copyOf(ProcessTable.snapshot().tree(main)), tree -> TITLES.stream()
                        .allMatch(
                                title -> tree.stream().anyMatch(p -> p.cmdline().startsWith(title))));
    }

    private static Optional<Long> readPid(Path file) {
        try {
            return Optional.of(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // not written (yet)
        }
    }

    private CommandRunner runner(Config config) {
        return runner(config, CommandRunner.MIN_CHECK_TIMEOUT);
    }

    private CommandRunner runner(Config config, Duration checkTimeout) {
        return new CommandRunner(config.build(), tmp.resolve("scheduler.out"), System::nanoTime, stopper, checkTimeout);
    }

    /** Scheduler settings for one test; the pattern only sees processes that name its directory. */
    private final class Config {
        private final String start;
        private String stop;
        private String check;
        private String pattern = "(?:" + DEFAULT_PATTERN + ").*" + Pattern.quote(tmp.toString());
        private String helpers;
        private Path pidFile;
        private Path device;
        private Path virtualenv;
        private Map<String, String> environment = Map.of();
        private Duration startTimeout = PATIENCE;
        private Duration stopTimeout = Duration.ofSeconds(5);

        Config(String start) {
            this.start = start;
        }

        Config stopCommand(String command) {
            this.stop = command;
            return this;
        }

        Config checkCommand(String command) {
            this.check = command;
            return this;
        }

        Config helperPattern(String regex) {
            this.helpers = regex;
            return this;
        }

        Config device(Path file) {
            this.device = file;
            return this;
        }

        Config pidFile(Path file) {
            this.pidFile = file;
            return this;
        }

        Config virtualenv(Path dir) {
            this.virtualenv = dir;
            return this;
        }

        Config environment(Map<String, String> env) {
            this.environment = env;
            return this;
        }

        Config startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        Config stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        SchedulerSettings build() {
            return new SchedulerSettings(
                    SchedulerMode.COMMAND,
                    start,
                    Optional.ofNullable(stop),
                    Optional.ofNullable(check),
                    pattern,
                    Optional.ofNullable(helpers),
                    Optional.ofNullable(pidFile),
                    Optional.ofNullable(virtualenv),
                    environment,
                    Duration.ofSeconds(1),
                    startTimeout,
                    stopTimeout,
                    stopTimeout,
                    stopTimeout,
                    Optional.empty(),
                    Duration.ofSeconds(1),
                    3,
                    true,
                    io.asfc.common.config.Modes.ForeignScheduler.STOP,
                    Optional.ofNullable(device),
                    new SchedulerSettings.Health(
                            Optional.empty(),
                            HealthFormat.AUTO,
                            Duration.ofSeconds(10),
                            Duration.ofSeconds(5),
                            Duration.ofSeconds(60),
                            Optional.empty()));
        }
    }

    /** Renews {@code runner}'s deadman every 200 ms, as the agent's DeadmanFeeder does, until closed. */
    private static AutoCloseable renewing(CommandRunner runner) {
        java.util.concurrent.ScheduledExecutorService feeder =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        feeder.scheduleAtFixedRate(runner::renew, 0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
        return feeder::shutdownNow;
    }
}
