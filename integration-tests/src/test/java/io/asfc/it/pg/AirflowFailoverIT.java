package io.asfc.it.pg;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.testing.Lifetimes;
import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import io.asfc.it.airflow.AirflowVenvs;
import io.asfc.it.pg.TaskLedger.Execution;
import io.asfc.it.pg.TaskLedger.Overlap;
import io.asfc.it.pg.TaskLedger.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The duplicate-run test: real Airflow schedulers (LocalExecutor, PostgreSQL) under asfc agents on the proving
 * ground's three hosts, through induced failovers, while a DAG scheduled every few seconds records every execution of
 * its tasks ({@link AirflowWorkload}). It fails when a (run, task) ever ran twice at the same time, when two
 * scheduler processes were ever alive at the same time (on two hosts or on one), when a run that was due did not
 * complete, or when {@code airflow jobs check} does not find exactly one live scheduler in steady state. The scheduling
 * gap of each failover is reported, never asserted.
 *
 * <p>Two witnesses of S1. The exact one is the schedulers' lifetime lock: every scheduler starts as {@code
 * lifetime_exec.py}, which takes the lock and execs {@code airflow scheduler} in the same process
 * ({@link io.asfc.common.testing.Lifetimes}); in steady state the test checks in {@code /proc/locks} that Airflow's main
 * still holds it. The second opinion is the observer's samples of {@code /proc}.
 *
 * <ul>
 *   <li>{@code -Dairflow.lines=2,3} (default): the Airflow lines to run, each on a fresh proving ground.
 *   <li>{@code -Dairflow.faults=kill-scheduler,kill-agent,crash-host,partition,manual-failover} (default: all five,
 *       in this order): the failovers to induce.
 * </ul>
 *
 * Writes {@code target/airflow-failover/airflow-<line>-report.md}. Needs root, PostgreSQL and PyPI (or built venvs
 * in {@code ~/.cache/asfc-it/airflow}): skips otherwise, and fails where {@code CI=true}.
 */
// A hang must not hang the build; longer than the 20 m default, as a real Airflow imports, migrates and runs tasks for
// minutes per fault.
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class AirflowFailoverIT {

    static final List<String> ALL_FAULTS =
            List.of("kill-scheduler", "kill-agent", "crash-host", "partition", "manual-failover");

    private static final Path BASE = Path.of("target", "airflow-failover").toAbsolutePath();
    private static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final Duration TASK_LENGTH = Duration.ofSeconds(3);
    private static final int TASKS = 2;
    private static final Duration FIRST_TASK_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration MOVE_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration TASK_AFTER_FAULT_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration POLL = Duration.ofSeconds(1);

    /**
     * One induced failover and what followed it.
     *
     * @param schedulerDownMillis how long no host ran a scheduler main process (the observer's samples)
     * @param overlapMillis how long two scheduler processes ran at once (on two hosts or on one), by the samples
     * @param lockOverlapMillis the same by the schedulers' lifetime lock (exact)
     * @param newMainMillis from the fault until the scheduler that runs afterwards was first seen
     * @param firstTask from the fault until the first task that started after that scheduler was up
     * @param longestPause the longest time without a task start, from the last start before the fault to that task
     */
    record Failover(
            String fault,
            String from,
            String to,
            long schedulerDownMillis,
            long overlapMillis,
            long lockOverlapMillis,
            long newMainMillis,
            Duration firstTask,
            Duration longestPause) {}

    static Stream<String> lines() {
        return Arrays.stream(System.getProperty("airflow.lines", "2,3").split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty());
    }

    @ParameterizedTest(name = "Airflow {0}.x")
    @MethodSource("lines")
    void noTaskRunsTwiceAcrossFailovers(String line) throws Exception {
        ProvingGroundIT.requireEnvironment();
        if (!Files.isDirectory(Path.of("/usr/lib/postgresql"))) {
            ProvingGroundIT.unavailable("PostgreSQL is not installed (apt-get install postgresql)");
        }
        List<String> faults = faults();
        Path scripts = AirflowVenvs.scripts();
        Path venv = venv(line);
        Path runDir = BASE.resolve("run-" + line);
        ProvingGroundIT.deleteRecursively(runDir);
        AirflowWorkload airflow = new AirflowWorkload(line, venv, scripts, INTERVAL, TASK_LENGTH, TASKS);
        List<Failover> failovers = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        StringBuilder notes = new StringBuilder();
        long built = System.nanoTime();
        try (ProvingGround pg = ProvingGround.build(runDir, Tunings.AIRFLOW, airflow)) {
            long start = System.nanoTime();
            notes.append("Proving ground with Airflow ")
                    .append(line)
                    .append(".x up in ")
                    .append(Duration.ofNanos(start - built).toSeconds())
                    .append(" s.\n");
            TaskLedger ledger = airflow.ledger();
            awaitExecutionAfter(ledger, Instant.EPOCH, FIRST_TASK_TIMEOUT, pg, airflow);
            crossCheck(pg, airflow, "steady state, before the faults", problems, notes);

            for (String fault : faults) {
                failovers.add(induce(pg, airflow, fault));
            }

            Instant stopAt = ledger.now();
            List<Instant> due = due(airflow, stopAt);
            awaitRunsComplete(ledger, due, pg, airflow);
            await("Airflow to see the dead schedulers' jobs as dead")
                    .pollDelay(AirflowWorkload.LIVENESS_THRESHOLD)
                    .atMost(AirflowWorkload.LIVENESS_THRESHOLD.multipliedBy(4))
                    .pollInterval(Duration.ofSeconds(2))
                    .until(() -> airflow.jobsCheck().exitCode() == 0);
            crossCheck(pg, airflow, "steady state, after the faults", problems, notes);

            List<Execution> executions = ledger.executions();
            List<Overlap> overlaps = TaskLedger.overlaps(executions);
            overlaps.forEach(o -> problems.add("ran twice at once: " + o.first().describe() + " and "
                    + o.second().describe()));
            Map<String, Run> runs = ledger.runs().stream()
                    .collect(Collectors.toMap(r -> r.intervalStart().toString(), r -> r, (a, b) -> a, TreeMap::new));
            for (Instant d : due) {
                Run run = runs.get(d.toString());
                if (run == null || !run.state().equals("success")) {
                    problems.add("the run for " + d + " did not complete: "
                            + (run == null ? "never created" : run.runId() + " is " + run.state()));
                }
            }
            long overlap = pg.observer().window(start, System.nanoTime()).overlapMillis();
            if (overlap > 0) {
                problems.add("two scheduler processes ran at once for " + overlap + " ms");
            }
            failovers.forEach(f -> {
                if (f.overlapMillis() > 0) {
                    problems.add(f.fault() + ": two schedulers for " + f.overlapMillis() + " ms");
                }
                if (f.lockOverlapMillis() > 0) {
                    problems.add(
                            f.fault() + ": two schedulers for " + f.lockOverlapMillis() + " ms by the lifetime lock");
                }
            });
            // over the whole run, from the first scheduler start
            pg.observer()
                    .lifetimeOverlaps(built, System.nanoTime())
                    .forEach(o -> problems.add("S1 by the lifetime lock: " + o));
            pg.observer().problems().forEach(p -> problems.add("the witness: " + p));
            notes.append(summary(executions, due.size()));
            notes.append("Exact, by the schedulers' lifetime lock: ")
                    .append(pg.observer().lifetimesSummary())
                    .append('\n');
            notes.append("Observer: ").append(pg.observer().samplingSummary()).append('\n');
        } finally {
            String report = report(line, faults, failovers, problems, notes.toString());
            Files.createDirectories(BASE);
            Files.writeString(BASE.resolve("airflow-" + line + "-report.md"), report, StandardCharsets.UTF_8);
            System.out.println("\n" + report);
        }
        assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));
    }

    /** Induces {@code fault} on the host that runs the scheduler, and waits until Airflow runs tasks again. */
    private static Failover induce(ProvingGround pg, AirflowWorkload airflow, String fault) throws Exception {
        Faults faults = new Faults(pg);
        String from = pg.schedulerNode();
        TaskLedger ledger = airflow.ledger();
        Instant faultAt = ledger.now();
        long faultNanos = System.nanoTime();
        System.out.printf("AirflowFailoverIT: Airflow %s.x: %s on %s%n", airflow.line(), fault, from);
        switch (fault) {
            case "kill-scheduler" -> {
                faults.killScheduler(from); // asfc restarts it on the same host
                pg.awaitSettled(Set.copyOf(ProvingGround.NODES), MOVE_TIMEOUT);
            }
            case "kill-agent" -> {
                faults.killAgent(from);
                awaitSchedulerOff(pg, from);
                pg.restoreBaseline();
            }
            case "crash-host" -> {
                faults.crashHost(from);
                awaitSchedulerOff(pg, from);
                pg.restoreBaseline();
            }
            case "partition" -> {
                faults.partition(from, Faults.Partition.ZOOKEEPER);
                awaitSchedulerOff(pg, from);
                faults.heal(from);
                pg.restoreBaseline();
            }
            case "manual-failover" -> {
                String to = ProvingGround.NODES.get((ProvingGround.NODES.indexOf(from) + 1) % 3);
                faults.failover(from, to);
                awaitSchedulerOn(pg, to);
                pg.awaitSettled(Set.copyOf(ProvingGround.NODES), MOVE_TIMEOUT);
            }
            default -> throw new IllegalArgumentException("unknown fault " + fault + "; known: " + ALL_FAULTS);
        }
        // The scheduler that runs now; tasks started before it was up were the old scheduler's (e.g. while an agent
        // was already dead but its watchdog had not yet stopped the scheduler).
        long newMain = pg.observer()
                .window(faultNanos, System.nanoTime())
                .recoveryMillis(faultNanos)
                .orElseThrow(() -> new IllegalStateException("no scheduler runs after " + fault));
        Instant upAt = faultAt.plusMillis(newMain);
        Execution first = awaitExecutionAfter(ledger, upAt, TASK_AFTER_FAULT_TIMEOUT, pg, airflow);
        List<Execution> executions = ledger.executions();
        Instant from0 = TaskLedger.lastStartBefore(executions, faultAt)
                .map(Execution::started)
                .orElse(faultAt);
        List<Instant> starts = executions.stream()
                .map(Execution::started)
                .filter(t -> !t.isBefore(from0) && !t.isAfter(first.started()))
                .sorted()
                .toList();
        Duration pause = Duration.ZERO;
        for (int i = 1; i < starts.size(); i++) {
            Duration d = Duration.between(starts.get(i - 1), starts.get(i));
            pause = d.compareTo(pause) > 0 ? d : pause;
        }
        Window window = pg.observer().window(faultNanos, System.nanoTime());
        Failover f = new Failover(
                fault,
                from,
                pg.schedulerNode(),
                window.gapMillis(),
                window.overlapMillis(),
                pg.observer().lifetimeOverlapMillis(faultNanos, System.nanoTime()),
                newMain,
                Duration.between(faultAt, first.started()),
                pause);
        System.out.printf("AirflowFailoverIT:   %s%n", f);
        return f;
    }

    private static void awaitSchedulerOff(ProvingGround pg, String from) {
        await("the scheduler to run on a host other than " + from)
                .atMost(MOVE_TIMEOUT)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> pg.observer()
                        .schedulerHost()
                        .filter(h -> !h.equals(from))
                        .isPresent());
    }

    private static void awaitSchedulerOn(ProvingGround pg, String to) {
        await("the scheduler to run on " + to)
                .atMost(MOVE_TIMEOUT)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> pg.observer().schedulerHost().filter(to::equals).isPresent());
    }

    private static Execution awaitExecutionAfter(
            TaskLedger ledger, Instant at, Duration timeout, ProvingGround pg, AirflowWorkload airflow) {
        Execution[] found = new Execution[1];
        try {
            await("a task execution that started after " + at)
                    .atMost(timeout)
                    .pollInterval(POLL)
                    .until(() -> {
                        found[0] = TaskLedger.firstStartAfter(ledger.executions(), at)
                                .orElse(null);
                        return found[0] != null;
                    });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException(
                    "no task started after " + at + " within " + timeout + "\n" + diagnostics(pg, airflow), e);
        }
        return found[0];
    }

    /** The data intervals that were due by {@code stopAt}: every run that must have completed. */
    private static List<Instant> due(AirflowWorkload airflow, Instant stopAt) {
        List<Instant> due = new ArrayList<>();
        for (Instant s = airflow.dagStart();
                !s.plus(airflow.interval()).isAfter(stopAt);
                s = s.plus(airflow.interval())) {
            due.add(s);
        }
        return due;
    }

    private static void awaitRunsComplete(
            TaskLedger ledger, List<Instant> due, ProvingGround pg, AirflowWorkload airflow) {
        Set<String> wanted = due.stream().map(Instant::toString).collect(Collectors.toCollection(LinkedHashSet::new));
        try {
            await(due.size() + " due runs to complete")
                    .atMost(DRAIN_TIMEOUT)
                    .pollInterval(Duration.ofSeconds(2))
                    .until(() -> {
                        Set<String> done = ledger.runs().stream()
                                .filter(r -> r.state().equals("success"))
                                .map(r -> r.intervalStart().toString())
                                .collect(Collectors.toSet());
                        return done.containsAll(wanted);
                    });
        } catch (ConditionTimeoutException e) {
            System.out.println("AirflowFailoverIT: not every due run completed within " + DRAIN_TIMEOUT
                    + " (listed in the report)\n" + diagnostics(pg, airflow));
        }
    }

    /**
     * {@code airflow jobs check} must find exactly one live scheduler; Airflow 3's api-server must call it healthy; the
     * one scheduler main process the observer sees must be the one process that holds the lifetime lock (Airflow did
     * not drop it by closing the file the wrapper left open).
     */
    private static void crossCheck(
            ProvingGround pg, AirflowWorkload airflow, String when, List<String> problems, StringBuilder notes)
            throws IOException, InterruptedException {
        Set<Long> mains = pg.observer().latest().map(Observer.Sample::mains).orElse(List.of()).stream()
                .map(m -> m.id().pid())
                .collect(Collectors.toSet());
        Set<Long> holders = Lifetimes.holders(airflow.lifetimeLock().orElseThrow());
        notes.append("Lifetime lock (")
                .append(when)
                .append("): scheduler main pid ")
                .append(mains)
                .append(", holders of the lock ")
                .append(holders)
                .append('\n');
        if (mains.size() != 1 || !holders.equals(mains)) {
            problems.add("the lifetime lock (" + when + "): the scheduler main processes " + mains
                    + " are not its holders " + holders + " (/proc/locks)");
        }
        CommandResult jobs = airflow.jobsCheck();
        String said = jobs.stdout().strip() + " "
                + jobs.stderr().lines().filter(l -> l.contains("Found")).collect(Collectors.joining(" "));
        notes.append("`airflow jobs check --job-type SchedulerJob --limit 0` (")
                .append(when)
                .append("): exit ")
                .append(jobs.exitCode())
                .append(", \"")
                .append(said.strip())
                .append("\"\n");
        if (jobs.exitCode() != 0) {
            problems.add("airflow jobs check (" + when + ") exited " + jobs.exitCode() + ": " + jobs.describe());
        }
        if (airflow.line().equals("3")) {
            CommandResult health = airflow.apiHealth();
            notes.append("api-server /api/v2/monitor/health (")
                    .append(when)
                    .append("): ")
                    .append(health.stdout().strip())
                    .append('\n');
            if (health.exitCode() != 0
                    || !health.stdout().replace(" ", "").contains("\"scheduler\":{\"status\":\"healthy\"")) {
                problems.add("the api-server does not call the scheduler healthy (" + when + "): " + health.describe());
            }
        }
    }

    private static String summary(List<Execution> executions, int dueRuns) {
        long killed = executions.stream().filter(e -> e.ended().isEmpty()).count();
        long retried = executions.stream().filter(e -> e.tryNumber() > 1).count();
        Map<String, Long> byHost = executions.stream()
                .collect(Collectors.groupingBy(Execution::host, TreeMap::new, Collectors.counting()));
        return "Task executions: " + executions.size() + " (by host " + byHost + "), " + killed
                + " killed by a failover, " + retried + " retries; runs due: " + dueRuns + ".\n";
    }

    private static String report(
            String line, List<String> faults, List<Failover> failovers, List<String> problems, String notes) {
        StringBuilder md = new StringBuilder();
        md.append("# Airflow ").append(line).append(".x under asfc: the duplicate-run test\n\n");
        md.append("Faults: ")
                .append(String.join(", ", faults))
                .append(". DAG every ")
                .append(INTERVAL.toSeconds())
                .append(" s, ")
                .append(TASKS)
                .append(" tasks of ")
                .append(TASK_LENGTH.toSeconds())
                .append(" s each, catch-up on, LocalExecutor, PostgreSQL. Agents: ")
                .append(Tunings.AIRFLOW.describe())
                .append(".\n\n");
        md.append("| # | fault | scheduler before → after | no scheduler (ms) | two schedulers (ms)"
                + " | two schedulers, by the lock (ms) | fault → scheduler up (s) | fault → its first task (s)"
                + " | longest pause in task starts (s) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < failovers.size(); i++) {
            Failover f = failovers.get(i);
            md.append("| %d | %s | %s → %s | %d | %d | %d | %.1f | %.1f | %.1f |\n"
                    .formatted(
                            i + 1,
                            f.fault(),
                            f.from(),
                            f.to(),
                            f.schedulerDownMillis(),
                            f.overlapMillis(),
                            f.lockOverlapMillis(),
                            f.newMainMillis() / 1000.0,
                            f.firstTask().toMillis() / 1000.0,
                            f.longestPause().toMillis() / 1000.0));
        }
        md.append("\n\"Scheduler up\" is when the observer first saw the main process of the scheduler that runs after"
                + " the failover (0 when the old one was never stopped); Airflow then imports for seconds before it"
                + " schedules. \"Two schedulers\" is by the observer's samples of /proc; \"by the lock\" is exact, by the"
                + " schedulers' lifetime lock (each started as lifetime_exec.py, which takes it and execs Airflow)."
                + " With a run every " + INTERVAL.toSeconds() + " s, the pause between task starts is about "
                + INTERVAL.toSeconds() + " s when nothing happens.\n");
        md.append('\n').append(notes);
        md.append(
                problems.isEmpty()
                        ? "\nResult: no task ran twice at once; every due run completed.\n"
                        : "\nProblems:\n" + problems.stream().map(p -> "- " + p).collect(Collectors.joining("\n"))
                                + "\n");
        return md.toString();
    }

    private static String diagnostics(ProvingGround pg, AirflowWorkload airflow) {
        StringBuilder d = new StringBuilder(pg.logTails()).append(airflow.logTails());
        for (String node : ProvingGround.NODES) {
            Path out = pg.host(node).dir().resolve("logs/scheduler-" + node + ".out");
            d.append("--- ").append(out).append(":\n").append(Commands.tail(out, 30));
        }
        return d.toString();
    }

    private static List<String> faults() {
        List<String> faults = Arrays.stream(System.getProperty("airflow.faults", String.join(",", ALL_FAULTS))
                        .split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
        for (String f : faults) {
            if (!ALL_FAULTS.contains(f)) {
                throw new IllegalArgumentException("airflow.faults: unknown fault " + f + "; known: " + ALL_FAULTS);
            }
        }
        return faults;
    }

    /** Builds or reuses the venv of {@code line}; skips (fails under CI=true) when it cannot. */
    private static Path venv(String line) throws IOException, InterruptedException {
        CommandResult built = AirflowVenvs.build(line, Files.createDirectories(BASE));
        if (built.exitCode() != 0) {
            ProvingGroundIT.unavailable(
                    "could not build the Airflow " + line + " venv (PyPI unreachable?):\n" + built.describe());
        }
        return AirflowVenvs.venv(line);
    }
}
