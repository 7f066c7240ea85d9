package io.asfc.it.airflow;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.asfc.agent.supervisor.health.HealthResult;
import io.asfc.agent.supervisor.health.HttpHealthProbe;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import io.asfc.it.Distribution;
import io.asfc.it.airflow.ProcTree.Identity;
import io.asfc.it.airflow.ProcTree.Proc;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One agent from the built distribution (embedded ZooKeeper, child mode) supervises a real {@code airflow scheduler}
 * with the LocalExecutor on a throwaway PostgreSQL, for each supported Airflow line. The venvs come from the lock
 * files in {@code integration-tests/airflow} through {@code venv.sh} and are kept between runs (under {@code
 * ~/.cache/asfc-it/airflow}, or {@code -Dasfc.airflow.venvs=DIR}).
 *
 * <p>It checks that the agent sees the scheduler (and its health server) and that {@code is-scheduler-running
 * --local} agrees; that asfc's default process-pattern matches what it must in the real tree; that {@code airflow jobs
 * check} finds the one scheduler; that asfc's {@code format = airflow-json} reading judges the web server's health
 * answer (2.x {@code airflow webserver}, 3.x {@code airflow api-server}, run by the test) healthy, and that the default
 * process-pattern matches none of that server's processes; that a SIGKILL of the scheduler's main process brings a new
 * one well within {@code stop-timeout} (what the dead main left gets the default {@code orphan-stop-timeout}) and
 * leaves nothing of the old tree; and that stopping the agent leaves nothing of the tree. It skips when PyPI, Python's
 * venv or PostgreSQL is missing, except under {@code CI=true}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
// A hang must not hang the build; longer than the 20 m default, as real Airflow versions start slowly.
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class AirflowProcessesIT {

    /** asfc's default scheduler.process-pattern (reference.conf). */
    private static final Pattern DEFAULT_PATTERN =
            Pattern.compile("airflow (scheduler|executor)|airflow worker -- LocalExecutor");

    private static final Duration PG_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration MIGRATE_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DAEMON_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CLI_TIMEOUT = Duration.ofMinutes(1);
    /** From the agent's start to a scheduler that runs and answers on its health server (Airflow imports slowly). */
    private static final Duration RUNNING_TIMEOUT = Duration.ofMinutes(3);
    /** After a SIGKILL of the main process: a new main, and the old tree gone. */
    private static final Duration RESTART_TIMEOUT = Duration.ofMinutes(2);
    /**
     * scheduler.stop-timeout given to the agent. After a SIGKILL of the main, the new main must come before it: what
     * the dead main left goes after orphan-stop-timeout (5s by default), not this.
     */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    /** [core] parallelism: the number of LocalExecutor workers. */
    private static final int PARALLELISM = 4;
    /** How long after a kill -9 the killed scheduler's job surely still counts as alive (threshold 30s, heartbeat 5s). */
    private static final Duration TWO_ALIVE_FOR = Duration.ofSeconds(20);
    /** From the start of the web server (2.x) or api-server (3.x) to its health URL answering 200. */
    private static final Duration SERVER_TIMEOUT = Duration.ofMinutes(2);

    private static final Duration POLL = Duration.ofMillis(200);

    @TempDir
    static Path tempDir;

    private Path scripts;
    private Path pgDir;
    private int pgPort;
    private Distribution dist;
    private final Map<String, Duration> figures = new LinkedHashMap<>();
    /** Every scheduler process ever seen, so that cleanup can end any left behind (by pid and start time). */
    private final Set<Identity> seen = new HashSet<>();

    @BeforeAll
    void startPostgres() throws Exception {
        requireOrSkip(Files.isDirectory(Path.of("/proc/self")), "needs Linux /proc");
        scripts = AirflowVenvs.scripts();
        assertTrue(Files.isRegularFile(scripts.resolve("venv.sh")), "no venv.sh in " + scripts);
        requireOrSkip(
                Files.isDirectory(Path.of("/usr/lib/postgresql")),
                "PostgreSQL is not installed (apt-get install postgresql); Airflow's LocalExecutor refuses SQLite");
        // Not under tempDir: as root the server runs as "postgres", which cannot enter JUnit's 0700 directory.
        pgDir = Files.createTempDirectory(Path.of("/tmp"), "asfc-airflow-pg-");
        pgPort = freePort();
        CommandResult pg = Commands.run(
                List.of(
                        scripts.resolve("pg.sh").toString(),
                        "start",
                        pgDir.toString(),
                        Integer.toString(pgPort),
                        "airflow2",
                        "airflow3"),
                tempDir,
                System.getenv(),
                PG_TIMEOUT);
        requireOrSkip(pg.exitCode() == 0, "could not start PostgreSQL:\n" + pg.describe());
        dist = Distribution.unpack(tempDir);
    }

    @AfterAll
    void stopPostgres() throws Exception {
        killLeftovers();
        if (pgDir != null) {
            CommandResult stop = Commands.run(
                    List.of(scripts.resolve("pg.sh").toString(), "stop", pgDir.toString()),
                    tempDir,
                    System.getenv(),
                    PG_TIMEOUT);
            deleteTree(pgDir);
            assertEquals(0, stop.exitCode(), stop::describe);
        }
        System.out.println("AirflowProcessesIT figures:");
        figures.forEach((what, took) -> System.out.printf("  %-58s %6d ms%n", what, took.toMillis()));
    }

    @ParameterizedTest(name = "Airflow {0}.x")
    @ValueSource(strings = {"2", "3"})
    void schedulerTreeIsSupervisedRestartedAndStoppedWhole(String line) throws Exception {
        Path venv = venv(line);
        Path dir = Files.createDirectories(tempDir.resolve("airflow-" + line));
        int healthPort = freePort();
        Map<String, String> airflowEnv = airflowEnvironment(dir, healthPort);
        airflowEnv.put(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                "postgresql+psycopg2://airflow@127.0.0.1:" + pgPort + "/airflow" + line);

        long migrateStarted = System.nanoTime();
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(airflowEnv);
        CommandResult migrate = Commands.run(
                List.of(venv.resolve("bin/airflow").toString(), "db", "migrate"), dir, env, MIGRATE_TIMEOUT);
        assertEquals(0, migrate.exitCode(), migrate::describe);
        figures.put("Airflow " + line + ": airflow db migrate (PostgreSQL)", since(migrateStarted));

        Agent agent = new Agent(dist, dir.resolve("agent"), venv, airflowEnv, healthPort);
        try {
            long started = System.nanoTime();
            CommandResult start = agent.run(DAEMON_TIMEOUT, "start");
            assertEquals(0, start.exitCode(), () -> start.describe() + agent.logTails());
            Proc main = awaitMain(agent, Optional.empty(), RUNNING_TIMEOUT);
            awaitHealthy(healthPort);
            figures.put("Airflow " + line + ": agent start -> scheduler healthy", since(started));

            CommandResult running = agent.run(CLI_TIMEOUT, "is-scheduler-running", "--local");
            assertEquals(0, running.exitCode(), () -> running.describe() + agent.logTails());

            List<Proc> tree = awaitTree(line, main);
            System.out.printf("AirflowProcessesIT: Airflow %s.x scheduler tree:%n%s%n", line, ProcTree.describe(tree));
            checkPatternAgainst(line, tree);

            checkJobsAndWebServerHealth(line, venv, dir, airflowEnv);

            // SIGKILL of the main process: a new main, and nothing of the old tree left.
            Set<Identity> oldTree = ProcTree.ids(tree);
            long killed = System.nanoTime();
            assertTrue(ProcessHandle.of(main.pid())
                    .map(ProcessHandle::destroyForcibly)
                    .orElse(false));
            Proc next = awaitMain(agent, Optional.of(main.id()), RESTART_TIMEOUT);
            Duration restart = since(killed);
            figures.put("Airflow " + line + ": kill -9 of main -> new main", restart);
            assertTrue(
                    restart.compareTo(STOP_TIMEOUT) < 0,
                    () -> "the restart took " + restart + ", not less than stop-timeout" + agent.logTails());
            await("the killed scheduler's tree to be gone")
                    .atMost(RESTART_TIMEOUT)
                    .pollInterval(POLL)
                    .until(() -> ProcTree.scan().among(oldTree).isEmpty());
            figures.put("Airflow " + line + ": kill -9 of main -> old tree gone", since(killed));
            checkWhatNeededSigkill(line, agent, main);
            awaitHealthy(healthPort);
            figures.put("Airflow " + line + ": kill -9 of main -> healthy again", since(killed));
            // The main that runs now: under load, Airflow 2.11 once died at start (psycopg2 "error with status
            // PGRES_TUPLES_OK and no message from the libpq" inserting its job), and asfc started another.
            Proc current = awaitMain(agent, Optional.of(main.id()), RESTART_TIMEOUT);
            if (!current.id().equals(next.id())) {
                System.out.printf(
                        "AirflowProcessesIT: Airflow %s.x: the new main %d exited and was replaced by %d%s%n",
                        line, next.pid(), current.pid(), agent.logTails());
            }
            List<Proc> newTree = awaitTree(line, current);
            checkJobsCheckStillCountsTheKilledScheduler(line, venv, dir, airflowEnv, killed);

            // Stopping the agent stops the whole tree, and the session it ran in.
            ProcTree before = ProcTree.scan();
            Set<Identity> last = ProcTree.ids(newTree);
            last.addAll(ProcTree.ids(before.session(current.sid())));
            long stopping = System.nanoTime();
            CommandResult stop = agent.run(DAEMON_TIMEOUT, "stop");
            assertEquals(0, stop.exitCode(), () -> stop.describe() + agent.logTails());
            List<Proc> left = ProcTree.scan().among(last);
            assertEquals(List.of(), left, () -> "left after the agent stopped:\n" + ProcTree.describe(left));
            figures.put("Airflow " + line + ": agent stop (scheduler tree first)", since(stopping));
        } finally {
            agent.stopQuietly();
            killLeftovers();
        }
    }

    /**
     * What asfc's stop of the killed main's leftovers needed SIGKILL for, as its log says: nothing on 2.x; on 3.3.2
     * the LocalExecutor workers, which do nothing on SIGTERM when their main is gone (docs/AIRFLOW.md).
     */
    private static void checkWhatNeededSigkill(String line, Agent agent, Proc killedMain) throws IOException {
        String session = "stopped scheduler session " + killedMain.sid() + ":";
        List<String> said = agent.logLines(session);
        System.out.printf("AirflowProcessesIT: Airflow %s.x: asfc's log: %s%n", line, said);
        assertEquals(1, said.size(), () -> "no single '" + session + "' line" + agent.logTails());
        int killed = line.equals("2") ? 0 : PARALLELISM;
        assertTrue(said.get(0).endsWith(", " + killed + " needed SIGKILL"), () -> said.get(0) + agent.logTails());
    }

    /**
     * With the one scheduler running: {@code airflow jobs check} finds exactly one alive SchedulerJob, and asfc's
     * {@code airflow-json} reading of the web server's (2.x) or api-server's (3.x) health answer is "healthy". The server
     * runs as the test's own child, started now (the jobs check runs while it starts) and killed before returning.
     */
    private void checkJobsAndWebServerHealth(String line, Path venv, Path dir, Map<String, String> airflowEnv)
            throws Exception {
        long started = System.nanoTime();
        try (AirflowServer server = AirflowServer.start(line, venv, dir, airflowEnv, freePort())) {
            CommandResult jobs = jobsCheck(venv, dir, airflowEnv);
            assertEquals(0, jobs.exitCode(), jobs::describe);
            assertTrue(jobs.stdout().contains("Found one alive job."), jobs::describe);
            System.out.printf(
                    "AirflowProcessesIT: Airflow %s.x: jobs check: %s%n",
                    line, jobs.stdout().trim());

            String body = server.awaitHealthBody(SERVER_TIMEOUT);
            figures.put("Airflow " + line + ": web server start -> health 200", since(started));
            System.out.printf("AirflowProcessesIT: Airflow %s.x: GET %s: %s%n", line, server.healthUrl(), body);
            List<Proc> tree = server.tree();
            System.out.printf("AirflowProcessesIT: Airflow %s.x web server tree:%n%s%n", line, ProcTree.describe(tree));
            for (Proc p : tree) {
                assertTrue(
                        !DEFAULT_PATTERN.matcher(p.title()).find(),
                        () -> "the default pattern matches the web server's " + p.describe());
            }
            HealthResult judged = new HttpHealthProbe(
                            URI.create(server.healthUrl()),
                            HealthFormat.AIRFLOW_JSON,
                            Duration.ofSeconds(5),
                            Optional.empty())
                    .check();
            assertEquals(HealthResult.Status.HEALTHY, judged.status(), judged::detail);
            System.out.printf("AirflowProcessesIT: Airflow %s.x: asfc's airflow-json reading: %s%n", line, judged);
        }
    }

    /**
     * The killed scheduler's job stays RUNNING and counts as alive until its last heartbeat (every 5s) is older than
     * {@code [scheduler] scheduler_health_check_threshold} (30s): until then {@code jobs check} sees two and exits 1.
     * Asserted only when the check ended within {@link #TWO_ALIVE_FOR} of the kill, printed in any case.
     */
    private static void checkJobsCheckStillCountsTheKilledScheduler(
            String line, Path venv, Path dir, Map<String, String> airflowEnv, long killed)
            throws IOException, InterruptedException {
        CommandResult after = jobsCheck(venv, dir, airflowEnv);
        Duration checked = since(killed);
        String said = lastLine(after.stdout() + after.stderr());
        System.out.printf(
                "AirflowProcessesIT: Airflow %s.x: jobs check %.1fs after the kill -9 exited %d: %s%n",
                line, checked.toMillis() / 1000.0, after.exitCode(), said);
        if (checked.compareTo(TWO_ALIVE_FOR) < 0) {
            assertEquals(1, after.exitCode(), after::describe);
            assertEquals("Found 2 alive jobs. Expected only one.", said, after::describe);
        }
    }

    private static CommandResult jobsCheck(Path venv, Path dir, Map<String, String> airflowEnv)
            throws IOException, InterruptedException {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(airflowEnv);
        return Commands.run(
                List.of(
                        venv.resolve("bin/airflow").toString(),
                        "jobs",
                        "check",
                        "--job-type",
                        "SchedulerJob",
                        "--limit",
                        "0"),
                dir,
                env,
                CLI_TIMEOUT);
    }

    /** Builds or reuses the venv of {@code line}; skips (fails under CI=true) when it cannot be built. */
    private Path venv(String line) throws IOException, InterruptedException {
        long started = System.nanoTime();
        CommandResult built = AirflowVenvs.build(line, tempDir);
        String said =
                built.stdout().lines().filter(l -> l.startsWith("venv.sh:")).reduce("", (a, b) -> b);
        System.out.printf("AirflowProcessesIT: %s%n", said);
        requireOrSkip(
                built.exitCode() == 0,
                "could not build the Airflow " + line + " venv (PyPI unreachable?):\n" + tail(built.describe()));
        figures.put(
                "Airflow " + line + ": venv.sh (" + (said.contains("reusing") ? "reused" : "built") + ")",
                since(started));
        return AirflowVenvs.venv(line);
    }

    private static Map<String, String> airflowEnvironment(Path dir, int healthPort) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AIRFLOW_HOME", Files.createDirectories(dir.resolve("home")).toString());
        env.put(
                "AIRFLOW__CORE__DAGS_FOLDER",
                Files.createDirectories(dir.resolve("dags")).toString());
        env.put("AIRFLOW__CORE__EXECUTOR", "LocalExecutor");
        // Airflow forks one LocalExecutor worker per slot (32 by default)
        env.put("AIRFLOW__CORE__PARALLELISM", Integer.toString(PARALLELISM));
        env.put("AIRFLOW__CORE__LOAD_EXAMPLES", "False");
        env.put("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "True");
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST", "127.0.0.1");
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", Integer.toString(healthPort));
        env.put("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", Integer.toString(freePort()));
        return env;
    }

    /**
     * The scheduler's main process: the child of the agent's watchdog shell (the scheduler session's leader) that
     * runs {@code airflow scheduler}, other than {@code not}.
     */
    private Proc awaitMain(Agent agent, Optional<Identity> not, Duration timeout) {
        Proc[] found = new Proc[1];
        await("a scheduler main process under the agent")
                .atMost(timeout)
                .pollInterval(POLL)
                .until(() -> {
                    ProcTree procs = ProcTree.scan();
                    long agentPid = agent.pid();
                    for (Proc child : procs.treeOf(agentPid)) {
                        if (child.ppid() != agentPid || !child.title().contains("asfc-scheduler-watchdog")) {
                            continue;
                        }
                        Optional<Proc> main = procs.treeOf(child.pid()).stream()
                                .filter(p ->
                                        p.ppid() == child.pid() && p.title().contains("airflow scheduler"))
                                .filter(p -> not.map(n -> !n.equals(p.id())).orElse(true))
                                .findFirst();
                        if (main.isPresent()) {
                            found[0] = main.get();
                            return true;
                        }
                    }
                    return false;
                });
        seen.add(found[0].id());
        return found[0];
    }

    /** The main's tree once its LocalExecutor workers are up. */
    private List<Proc> awaitTree(String line, Proc main) {
        List<List<Proc>> tree = new ArrayList<>(List.of(List.of()));
        await("Airflow " + line + ".x's LocalExecutor workers under main " + main.pid())
                .atMost(RUNNING_TIMEOUT)
                .pollInterval(POLL)
                .until(() -> {
                    List<Proc> now = ProcTree.scan().treeOf(main.pid());
                    tree.set(0, now);
                    return now.stream().anyMatch(p -> p.title().startsWith("airflow worker -- LocalExecutor"));
                });
        seen.addAll(ProcTree.ids(tree.get(0)));
        return tree.get(0);
    }

    /** What the default process-pattern must match in the real tree, and what it must leave to the tree stop. */
    private static void checkPatternAgainst(String line, List<Proc> tree) {
        for (Proc p : tree) {
            boolean matches = DEFAULT_PATTERN.matcher(p.title()).find();
            boolean logServer = p.title().startsWith("gunicorn:") || p.title().startsWith("airflow serve-logs");
            if (logServer) {
                assertTrue(!matches, () -> "the default pattern matches the log server " + p.describe());
            } else {
                assertTrue(matches, () -> "Airflow " + line + ".x: the default pattern misses " + p.describe());
            }
        }
        for (String other : List.of(
                "airflow celery worker",
                "airflow webserver",
                "airflow api-server",
                "airflow triggerer",
                "airflow dag-processor",
                "airflow serve-logs")) {
            assertTrue(!DEFAULT_PATTERN.matcher(other).find(), () -> "the default pattern matches " + other);
        }
    }

    private static void awaitHealthy(int port) {
        await("the scheduler's health server on 127.0.0.1:" + port + " to answer 200")
                .atMost(RUNNING_TIMEOUT)
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> status("http://127.0.0.1:" + port + "/health") == 200);
    }

    private static int status(String url) throws IOException {
        HttpURLConnection connection =
                (HttpURLConnection) URI.create(url).toURL().openConnection();
        connection.setConnectTimeout(2_000);
        connection.setReadTimeout(2_000);
        try {
            return connection.getResponseCode();
        } finally {
            connection.disconnect();
        }
    }

    /** SIGKILL for every scheduler process seen that is still alive (by pid and start time). */
    private void killLeftovers() throws IOException {
        for (Proc p : ProcTree.scan().among(seen)) {
            ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** One agent with its own conf, pid and log directories, configured for the scheduler of one venv. */
    private final class Agent {
        private final Path conf;
        private final Path run;
        private final Path logs;
        private final Set<Long> pids = new HashSet<>();

        Agent(Distribution dist, Path dir, Path venv, Map<String, String> airflowEnv, int healthPort)
                throws IOException {
            conf = Files.createDirectories(dir.resolve("conf"));
            run = Files.createDirectories(dir.resolve("run"));
            logs = Files.createDirectories(dir.resolve("logs"));
            Files.copy(
                    dist.home().resolve("conf/logback.xml"),
                    conf.resolve("logback.xml"),
                    StandardCopyOption.REPLACE_EXISTING);
            StringBuilder environment = new StringBuilder();
            airflowEnv.forEach((k, v) -> environment
                    .append("      \"")
                    .append(k)
                    .append("\" = \"")
                    .append(v)
                    .append("\"\n"));
            String hocon =
                    """
                    asfc {
                      node.id = a
                      zookeeper {
                        connect = embedded
                        embedded { port = %d, data-dir = "%s" }
                      }
                      ssh.enabled = false
                      scheduler {
                        mode = child
                        start-command = "exec %s scheduler"
                        stop-timeout = %ds
                        restart-sleep = 200ms
                        environment {
                    %s    }
                        health {
                          url = "http://127.0.0.1:%d/health"
                          format = status-code
                          interval = 1s
                          timeout = 2s
                        }
                      }
                    }
                    """
                            .formatted(
                                    freePort(),
                                    dir.resolve("zookeeper"),
                                    venv.resolve("bin/airflow"),
                                    STOP_TIMEOUT.toSeconds(),
                                    environment,
                                    healthPort);
            Files.writeString(conf.resolve("asfc.conf"), hocon, StandardCharsets.UTF_8);
        }

        CommandResult run(Duration timeout, String... args) throws IOException, InterruptedException {
            CommandResult result = dist.run(
                    List.of(),
                    Map.of(
                            "ASFC_CONF_DIR", conf.toString(),
                            "ASFC_PID_DIR", run.toString(),
                            "ASFC_LOG_DIR", logs.toString(),
                            "ASFC_STOP_TIMEOUT", Long.toString(STOP_TIMEOUT.toSeconds() + 30)),
                    timeout,
                    args);
            recordedPid().ifPresent(pids::add);
            return result;
        }

        long pid() throws IOException {
            return recordedPid().orElseThrow(() -> new AssertionError("no agent pid file in " + run));
        }

        private Optional<Long> recordedPid() throws IOException {
            Path file = run.resolve("asfc-agent.pid");
            if (!Files.isRegularFile(file)) {
                return Optional.empty();
            }
            String text = Files.readString(file, StandardCharsets.UTF_8).trim();
            return text.matches("\\d+") ? Optional.of(Long.parseLong(text)) : Optional.empty();
        }

        /** The lines of the agent's log that contain {@code text}. */
        List<String> logLines(String text) throws IOException {
            try (Stream<String> lines = Files.lines(logs.resolve("asfc-agent.log"), StandardCharsets.UTF_8)) {
                return lines.filter(l -> l.contains(text)).toList();
            }
        }

        String logTails() {
            StringBuilder tails = new StringBuilder();
            for (String name : List.of("asfc-agent.log", "asfc-agent.out", "scheduler-a.out")) {
                tails.append("\n--- last lines of ")
                        .append(logs.resolve(name))
                        .append(":\n")
                        .append(Commands.tail(logs.resolve(name), 40));
            }
            return tails.toString();
        }

        void stopQuietly() {
            try {
                run(DAEMON_TIMEOUT, "stop");
            } catch (IOException | AssertionError e) {
                System.out.println("AirflowProcessesIT: cleanup stop of the agent: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).trim();
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Skips with {@code reason}, except under CI=true, where it fails. */
    private static void requireOrSkip(boolean condition, String reason) {
        if (condition) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            fail(reason + " (CI=true: this must not be skipped)");
        }
        assumeTrue(false, reason);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
