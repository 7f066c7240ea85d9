package io.asfc.it.pg;

import static org.awaitility.Awaitility.await;

import io.asfc.it.CommandResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A real Airflow (2.x or 3.x, from a venv built by {@code integration-tests/airflow/venv.sh}) as the proving ground's
 * workload. A services host {@code svc} (198.18.0.31) runs PostgreSQL, the metadata database, and for Airflow 3 the
 * {@code airflow api-server} (tasks reach the Execution API there) and one {@code airflow dag-processor}. Each
 * scheduler host runs {@code airflow scheduler} with the LocalExecutor under its agent, and its tasks run on that
 * host. asfc checks the scheduler with Airflow's own health server (127.0.0.1:8974 on each host).
 *
 * <p>The DAG {@value #DAG_ID} runs every {@code interval} from a start date just before the suite began, with
 * catch-up on, so that a run missed during a failover is made up afterwards. Each of its tasks writes a row to
 * {@code asfc_task_runs} when it starts, updates it every 200 ms while it runs, and once more when it ends: a
 * duplicate execution is two rows of one (run, task) whose intervals overlap ({@link TaskLedger}).
 */
final class AirflowWorkload implements Workload {

    static final String DAG_ID = "asfc_duplicate_check";
    static final String SERVICES = "svc";
    static final int SERVICES_OCTET = 31;
    static final int PG_PORT = 5432;
    static final int API_PORT = 8080;
    static final int HEALTH_PORT = 8974;
    /** Airflow's job-liveness threshold, which also bounds how soon a new scheduler adopts a dead one's tasks. */
    static final Duration LIVENESS_THRESHOLD = Duration.ofSeconds(10);

    private static final Duration PG_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration MIGRATE_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration API_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration CLI_TIMEOUT = Duration.ofMinutes(2);

    private final String line;
    private final Path venv;
    private final Path scripts;
    private final Duration interval;
    private final Duration taskLength;
    private final int tasks;
    private final String jwtSecret = randomHex();
    private final List<Process> services = new ArrayList<>();
    private ProvingGround pg;
    private Host svc;
    private Path pgDir;
    private Path dags;
    private Instant dagStart;
    private TaskLedger ledger;
    private Path lifetimeExec;

    /**
     * @param line "2" or "3"
     * @param venv the venv with {@code bin/airflow}
     * @param scripts {@code integration-tests/airflow} (pg.sh)
     * @param interval the DAG's schedule
     * @param taskLength how long each task runs
     * @param tasks tasks per run (they run in parallel)
     */
    AirflowWorkload(String line, Path venv, Path scripts, Duration interval, Duration taskLength, int tasks) {
        this.line = line;
        this.venv = venv;
        this.scripts = scripts;
        this.interval = interval;
        this.taskLength = taskLength;
        this.tasks = tasks;
    }

    String line() {
        return line;
    }

    Duration interval() {
        return interval;
    }

    /** The DAG's start date: its first run covers [dagStart, dagStart + interval). */
    Instant dagStart() {
        return dagStart;
    }

    TaskLedger ledger() {
        return ledger;
    }

    Host services() {
        return svc;
    }

    @Override
    public void prepare(ProvingGround pg) throws IOException, InterruptedException {
        this.pg = pg;
        svc = pg.addHost(SERVICES, SERVICES_OCTET);
        // Not under the JUnit/target tree: as root, PostgreSQL runs as "postgres", which must reach its directory.
        pgDir = Files.createTempDirectory(Path.of("/tmp"), "asfc-pg-airflow-");
        CommandResult started = svc.run(
                PG_TIMEOUT,
                Map.of("PG_LISTEN", svc.address(), "PG_ALLOW", Bridge.SUBNET_PREFIX + "0/" + Bridge.PREFIX_LENGTH),
                scripts.resolve("pg.sh").toString(),
                "start",
                pgDir.toString(),
                Integer.toString(PG_PORT),
                "airflow");
        check(started, "PostgreSQL on " + SERVICES);
        ledger = new TaskLedger(svc, svc.address(), PG_PORT, "airflow", DAG_ID);
        ledger.createTable();

        lifetimeExec = Workload.copyStandin(pg).resolve("lifetime_exec.py");
        Path airflowDir = Files.createDirectories(pg.dir().resolve("airflow"));
        dags = Files.createDirectories(airflowDir.resolve("dags"));
        long step = interval.toSeconds();
        // A start date on the schedule's grid, one interval back: the first run is due at once.
        dagStart = Instant.ofEpochSecond((Instant.now().getEpochSecond() / step - 1) * step);
        Files.writeString(dags.resolve(DAG_ID + ".py"), dag(), StandardCharsets.UTF_8);

        Map<String, String> env = environment(svc);
        check(svc.run(MIGRATE_TIMEOUT, env, airflow(), "db", "migrate"), "airflow db migrate");
        if (line.equals("3")) {
            services.add(svc.launch(
                    List.of(
                            airflow(),
                            "api-server",
                            "--host",
                            svc.address(),
                            "--port",
                            Integer.toString(API_PORT),
                            "--workers",
                            "1"),
                    svc.dir().resolve("api-server.out"),
                    env));
            services.add(
                    svc.launch(List.of(airflow(), "dag-processor"), svc.dir().resolve("dag-processor.out"), env));
            await("Airflow 3's api-server on " + svc.address() + ":" + API_PORT)
                    .atMost(API_TIMEOUT)
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> apiHealth().exitCode() == 0);
        }
    }

    /**
     * {@code lifetime_exec.py} takes the schedulers' lifetime lock, then execs {@code airflow scheduler}: the same
     * process, so Airflow's main holds the lock from before its first import to its death (and its children never).
     */
    @Override
    public String startCommand(String node) {
        return "exec %s %s --lifetime-lock %s --host %s -- %s scheduler"
                .formatted(Host.PYTHON, lifetimeExec, lifetimeLock().orElseThrow(), node, airflow());
    }

    /** On the file system every host shares. */
    @Override
    public java.util.Optional<Path> lifetimeLock() {
        return java.util.Optional.of(pg.dir().resolve("lifetime.lock"));
    }

    @Override
    public String extraConf(String node) {
        String environment = environment(pg.host(node)).entrySet().stream()
                .map(e -> "      \"" + e.getKey() + "\" = \"" + e.getValue() + "\"")
                .collect(Collectors.joining("\n"));
        return """

                asfc.scheduler {
                  environment {
                %s
                  }
                  health {
                    url = "http://127.0.0.1:%d/health"
                    format = status-code
                    interval = 2s
                    timeout = 2s
                    unhealthy-after = 60s
                  }
                }
                """
                .formatted(environment, HEALTH_PORT);
    }

    /**
     * The scheduler's main process: {@code <venv>/bin/python <venv>/bin/airflow scheduler}. Python's setproctitle
     * (which Airflow loads) rewrites the argument area as one space-separated string, so the NULs are not relied on.
     * Before it execs Airflow, the same process is {@code python3 lifetime_exec.py ... -- <venv>/bin/airflow
     * scheduler}, which ends alike: one process and one start time throughout, as the agent's {@code sh -c exec ...}
     * before it. Its health-server child has the same command line (a fork, not a main of its own); its other
     * processes retitle themselves ({@code airflow worker -- LocalExecutor}, ...).
     */
    @Override
    public Predicate<String> isMain() {
        String main = airflow() + " scheduler";
        return cmdline -> {
            String title = cmdline.replace('\0', ' ').strip();
            return title.equals(main) || title.endsWith(" " + main);
        };
    }

    /** The venv's {@code airflow}: in the main's command line before and after setproctitle, and in lifetime_exec's. */
    @Override
    public String mainMarker() {
        return airflow();
    }

    @Override
    public Duration settleTimeout() {
        return Duration.ofMinutes(3); // Airflow imports for seconds before its main even runs
    }

    /** {@code airflow jobs check --job-type SchedulerJob --limit 0}: exit 0 when exactly one scheduler is alive. */
    CommandResult jobsCheck() throws IOException, InterruptedException {
        return svc.run(
                CLI_TIMEOUT,
                environment(svc),
                airflow(),
                "jobs",
                "check",
                "--job-type",
                "SchedulerJob",
                "--limit",
                "0");
    }

    /** Airflow 3: the api-server's {@code /api/v2/monitor/health} body, read on the services host. */
    CommandResult apiHealth() throws IOException, InterruptedException {
        return svc.run(
                Duration.ofSeconds(10),
                Host.PYTHON,
                "-c",
                "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3)"
                        + ".read().decode())",
                "http://" + svc.address() + ":" + API_PORT + "/api/v2/monitor/health");
    }

    /** The last lines of the services' own logs, for failure messages. */
    String logTails() {
        StringBuilder tails = new StringBuilder();
        for (String name : List.of("api-server.out", "dag-processor.out")) {
            Path file = svc.dir().resolve(name);
            if (Files.exists(file)) {
                tails.append("--- ").append(name).append(":\n").append(io.asfc.it.Commands.tail(file, 20));
            }
        }
        return tails.toString();
    }

    /** Airflow's settings for a process on {@code host}; each host has its own AIRFLOW_HOME (logs, pid files). */
    Map<String, String> environment(Host host) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AIRFLOW_HOME", host.dir().resolve("airflow-home").toString());
        env.put(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                "postgresql+psycopg2://airflow@" + svc.address() + ":" + PG_PORT + "/airflow");
        env.put("AIRFLOW__CORE__DAGS_FOLDER", dags.toString());
        env.put("AIRFLOW__CORE__EXECUTOR", "LocalExecutor");
        env.put("AIRFLOW__CORE__PARALLELISM", "4");
        env.put("AIRFLOW__CORE__LOAD_EXAMPLES", "False");
        env.put("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False");
        env.put("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "True");
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST", "127.0.0.1");
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", Integer.toString(HEALTH_PORT));
        // How soon a new scheduler takes a dead one's queued and running tasks over (defaults: 30 s and 300 s).
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD", Long.toString(LIVENESS_THRESHOLD.toSeconds()));
        env.put("AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL", "5");
        env.put("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "2");
        if (line.equals("2")) {
            // A task whose process died with its scheduler is failed (and retried) after this many seconds.
            env.put("AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "15");
            env.put("AIRFLOW__SCHEDULER__ZOMBIE_DETECTION_INTERVAL", "3");
            env.put("AIRFLOW__SCHEDULER__LOCAL_TASK_JOB_HEARTBEAT_SEC", "2");
            env.put("AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL", "10");
        } else {
            env.put("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "15");
            env.put("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL", "3");
            env.put("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC", "2");
            env.put("AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "10");
            env.put(
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                    "http://" + svc.address() + ":" + API_PORT + "/execution/");
            env.put("AIRFLOW__API_AUTH__JWT_SECRET", jwtSecret); // a test secret, shared by api-server and workers
        }
        return env;
    }

    private String dag() {
        return """
                # Written by AirflowFailoverIT. Each task records its execution in asfc_task_runs.
                import datetime
                import os
                import socket
                import time

                import psycopg2
                from airflow import DAG

                try:
                    from airflow.providers.standard.operators.python import PythonOperator  # Airflow 3
                except ImportError:
                    from airflow.operators.python import PythonOperator  # Airflow 2

                DSN = "host=%s port=%d dbname=airflow user=airflow"
                SECONDS = %f


                def record(**context):
                    ti = context["ti"]
                    conn = psycopg2.connect(DSN)
                    conn.autocommit = True
                    cur = conn.cursor()
                    cur.execute(
                        "insert into asfc_task_runs (dag_id, run_id, task_id, try_number, host, pid, started, last_seen)"
                        " values (%%s, %%s, %%s, %%s, %%s, %%s, clock_timestamp(), clock_timestamp()) returning id",
                        (ti.dag_id, context["run_id"], ti.task_id, ti.try_number, socket.gethostname(), os.getpid()),
                    )
                    row = cur.fetchone()[0]
                    deadline = time.monotonic() + SECONDS
                    while time.monotonic() < deadline:
                        time.sleep(0.2)
                        cur.execute("update asfc_task_runs set last_seen = clock_timestamp() where id = %%s", (row,))
                    cur.execute(
                        "update asfc_task_runs set last_seen = clock_timestamp(), ended = clock_timestamp()"
                        " where id = %%s",
                        (row,),
                    )
                    conn.close()


                with DAG(
                    dag_id="%s",
                    start_date=datetime.datetime.fromtimestamp(%d, tz=datetime.timezone.utc),
                    schedule=datetime.timedelta(seconds=%d),
                    catchup=True,
                    is_paused_upon_creation=False,
                    max_active_runs=16,
                    default_args={"retries": 5, "retry_delay": datetime.timedelta(seconds=2)},
                ):
                    for i in range(%d):
                        PythonOperator(task_id="record_%%d" %% i, python_callable=record)
                """
                .formatted(
                        svc.address(),
                        PG_PORT,
                        taskLength.toMillis() / 1000.0,
                        DAG_ID,
                        dagStart.getEpochSecond(),
                        interval.toSeconds(),
                        tasks);
    }

    private String airflow() {
        return venv.resolve("bin/airflow").toString();
    }

    private void check(CommandResult result, String what) {
        if (result.exitCode() != 0) {
            throw new IllegalStateException(what + " failed:\n" + result.describe());
        }
    }

    @Override
    public void close() {
        for (Process p : services) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        if (svc != null && pgDir != null) {
            try {
                svc.run(PG_TIMEOUT, scripts.resolve("pg.sh").toString(), "stop", pgDir.toString());
            } catch (IOException | RuntimeException | AssertionError e) {
                System.out.println("AirflowWorkload: stopping PostgreSQL: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pgDir != null) {
            try {
                ProvingGroundIT.deleteRecursively(pgDir);
            } catch (IOException e) {
                System.out.println("AirflowWorkload: could not delete " + pgDir + ": " + e);
            }
        }
    }

    private static String randomHex() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
