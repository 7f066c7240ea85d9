package io.asfc.it.pg;

import io.asfc.it.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the DAG's tasks wrote to {@code asfc_task_runs}, and Airflow's own {@code dag_run} table, read with {@code
 * psql} on the services host. Every time comes from the database's clock ({@code clock_timestamp()}), one clock for
 * every host.
 */
final class TaskLedger {

    /** One execution of a task: a row of {@code asfc_task_runs}. {@code ended} is empty for one that was killed. */
    record Execution(
            long id,
            String runId,
            String taskId,
            int tryNumber,
            String host,
            long pid,
            Instant started,
            Instant lastSeen,
            Optional<Instant> ended) {

        /** Until when it certainly ran: its end, or the last time it said it was alive. */
        Instant until() {
            return ended.orElse(lastSeen);
        }

        boolean overlaps(Execution other) {
            return started.isBefore(other.until()) && other.started.isBefore(until());
        }

        String describe() {
            return "%s %s try %d on %s (pid %d) %s..%s%s"
                    .formatted(
                            runId,
                            taskId,
                            tryNumber,
                            host,
                            pid,
                            started,
                            until(),
                            ended.isPresent() ? "" : " (killed)");
        }
    }

    /** One DAG run: its data interval and its state. */
    record Run(String runId, Instant intervalStart, String state) {}

    /** Two executions of the same (run, task) that ran at the same time. */
    record Overlap(Execution first, Execution second) {}

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
    private static final DateTimeFormatter PG_TIMESTAMP = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd()
            .appendPattern("X")
            .toFormatter();

    private final Host host;
    private final String address;
    private final int port;
    private final String database;
    private final String dagId;

    TaskLedger(Host host, String address, int port, String database, String dagId) {
        this.host = host;
        this.address = address;
        this.port = port;
        this.database = database;
        this.dagId = dagId;
    }

    void createTable() throws IOException, InterruptedException {
        query(
                """
                create table if not exists asfc_task_runs (
                  id bigserial primary key,
                  dag_id text not null, run_id text not null, task_id text not null, try_number int not null,
                  host text not null, pid bigint not null,
                  started timestamptz not null, last_seen timestamptz not null, ended timestamptz)""");
    }

    List<Execution> executions() throws IOException, InterruptedException {
        List<Execution> all = new ArrayList<>();
        for (String[] f : query("select id, run_id, task_id, try_number, host, pid, started, last_seen,"
                + " coalesce(ended::text, '') from asfc_task_runs where dag_id = '" + dagId + "' order by id")) {
            all.add(new Execution(
                    Long.parseLong(f[0]),
                    f[1],
                    f[2],
                    Integer.parseInt(f[3]),
                    f[4],
                    Long.parseLong(f[5]),
                    instant(f[6]),
                    instant(f[7]),
                    f[8].isEmpty() ? Optional.empty() : Optional.of(instant(f[8]))));
        }
        return all;
    }

    /** Every pair of executions of one (run, task) that overlap in time: each is a task run twice at once. */
    static List<Overlap> overlaps(List<Execution> executions) {
        List<Overlap> found = new ArrayList<>();
        for (int i = 0; i < executions.size(); i++) {
            for (int j = i + 1; j < executions.size(); j++) {
                Execution a = executions.get(i);
                Execution b = executions.get(j);
                if (a.runId().equals(b.runId()) && a.taskId().equals(b.taskId()) && a.overlaps(b)) {
                    found.add(new Overlap(a, b));
                }
            }
        }
        return found;
    }

    /** The first execution that started after {@code at}. */
    static Optional<Execution> firstStartAfter(List<Execution> executions, Instant at) {
        return executions.stream().filter(e -> e.started().isAfter(at)).min(Comparator.comparing(Execution::started));
    }

    /** The last execution that started before {@code at}. */
    static Optional<Execution> lastStartBefore(List<Execution> executions, Instant at) {
        return executions.stream().filter(e -> !e.started().isAfter(at)).max(Comparator.comparing(Execution::started));
    }

    /** The DAG's runs, oldest data interval first. */
    List<Run> runs() throws IOException, InterruptedException {
        List<Run> runs = new ArrayList<>();
        for (String[] f : query("select run_id, data_interval_start, state from dag_run where dag_id = '" + dagId
                + "' order by data_interval_start")) {
            runs.add(new Run(f[0], instant(f[1]), f[2]));
        }
        return runs;
    }

    /** The database's clock now. */
    Instant now() throws IOException, InterruptedException {
        return instant(query("select clock_timestamp()").get(0)[0]);
    }

    private List<String[]> query(String sql) throws IOException, InterruptedException {
        CommandResult result = host.run(
                QUERY_TIMEOUT,
                psql(),
                "-h",
                address,
                "-p",
                Integer.toString(port),
                "-U",
                "airflow",
                "-d",
                database,
                "-X",
                "-A",
                "-t",
                "-q",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                "set timezone = 'UTC'; " + sql);
        if (result.exitCode() != 0) {
            throw new IllegalStateException("psql failed: " + result.describe());
        }
        return result.stdout()
                .lines()
                .filter(l -> !l.isBlank())
                .map(l -> l.split("\t", -1))
                .toList();
    }

    private static Instant instant(String text) {
        return OffsetDateTime.parse(text.trim(), PG_TIMESTAMP).toInstant();
    }

    /** Debian's newest psql, e.g. {@code /usr/lib/postgresql/15/bin/psql}. */
    private static String psql() throws IOException {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin/psql"))
                    .filter(Files::isExecutable)
                    .max(Comparator.comparing(p -> Integer.parseInt(
                            p.getParent().getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .map(Path::toString)
                    .orElseThrow(() -> new IllegalStateException("no psql under /usr/lib/postgresql"));
        }
    }
}
