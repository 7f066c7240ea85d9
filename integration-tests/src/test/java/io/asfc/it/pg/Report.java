package io.asfc.it.pg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.asfc.it.TickLog;
import io.asfc.it.TickLog.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The proving ground's report: every scenario's {@link Outcome}, the stand-ins' own account of when they ran (the
 * tick file), the agents at idle, and the benchmark table (median, p95 and max of each measurement over every run of
 * its scenario). Written as JSON and Markdown.
 */
final class Report {

    /** A tick file silence longer than this ends a run (the stand-ins tick every 50 ms). */
    private static final long RUN_SILENCE_MILLIS = 1_000;

    /** The agents at idle: resident set size, CPU, and ZooKeeper transactions per second per agent. */
    record Idle(
            Map<String, Long> rssKib, Map<String, Double> cpuPercent, double zkWritesPerSecondPerAgent, long seconds) {}

    /** One line of the benchmark table. */
    record Benchmark(String measurement, int n, Long median, Long p95, Long max, String restarts) {}

    private final String suite;
    private final String description;
    private final Tunings tunings;
    private final List<Outcome> outcomes = new ArrayList<>();
    private Idle idle;
    private String sampling = "";
    private List<String> tickOverlaps = List.of();
    private long tickOverlapMillis;
    private int tickRuns;
    private List<String> wholeRunOverlaps = List.of();
    private long wholeRunOverlapMillis;
    private List<String> lifetimeOverlaps = List.of();
    private String lifetimesSummary = "";
    private List<String> observerProblems = List.of();

    Report(String suite, String description, Tunings tunings) {
        this.suite = suite;
        this.description = description;
        this.tunings = tunings;
    }

    synchronized void add(Outcome outcome) {
        outcomes.add(outcome);
    }

    synchronized void idle(Idle figures) {
        this.idle = figures;
    }

    synchronized void sampling(String summary) {
        this.sampling = summary;
    }

    /** Reads the tick file: runs of two hosts that overlap in time are two schedulers working at once (S1). */
    synchronized void ticks(Path file) throws IOException {
        List<Run> runs = TickLog.runs(file, RUN_SILENCE_MILLIS);
        tickRuns = runs.size();
        List<String> found = new ArrayList<>();
        long millis = 0;
        for (int i = 0; i < runs.size(); i++) {
            for (int j = i + 1; j < runs.size(); j++) {
                Run x = runs.get(i);
                Run y = runs.get(j);
                long overlap = Math.min(x.lastMillis(), y.lastMillis()) - Math.max(x.firstMillis(), y.firstMillis());
                boolean sameProcess = x.host().equals(y.host()) && x.pid() == y.pid();
                if (!sameProcess && overlap >= 0) { // two processes, on two hosts or on one
                    found.add(x + " overlaps " + y);
                    millis += overlap;
                }
            }
        }
        tickOverlaps = List.copyOf(found);
        tickOverlapMillis = millis;
    }

    /** The observer's account of the whole run, between and during scenarios: any overlap breaks S1. */
    synchronized void wholeRun(Window whole) {
        wholeRunOverlaps = whole.overlaps();
        wholeRunOverlapMillis = whole.overlapMillis();
    }

    /**
     * The lifetime lock's account of the whole run (exact: any overlap breaks S1), and the observer's own problems (a
     * failed scan, no sample, a gap over its bound): an observer that did not watch fails the run.
     */
    synchronized void witnesses(List<String> lifetimeOverlaps, String lifetimesSummary, List<String> observerProblems) {
        this.lifetimeOverlaps = List.copyOf(lifetimeOverlaps);
        this.lifetimesSummary = lifetimesSummary;
        this.observerProblems = List.copyOf(observerProblems);
    }

    synchronized List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    synchronized List<String> tickOverlaps() {
        return tickOverlaps;
    }

    /** Every problem of every scenario, and any overlap in the tick file. */
    synchronized List<String> problems() {
        List<String> all = new ArrayList<>();
        outcomes.forEach(o -> o.problems().forEach(p -> all.add(o.name() + " at +" + o.atMillis() + " ms: " + p)));
        tickOverlaps.forEach(t -> all.add("S1 by the stand-ins' own ticks: " + t));
        wholeRunOverlaps.forEach(o -> all.add("S1 by the observer, over the whole run: " + o));
        lifetimeOverlaps.forEach(o -> all.add("S1 by the lifetime lock, over the whole run: " + o));
        all.addAll(observerProblems);
        return all;
    }

    synchronized List<Benchmark> benchmarks() {
        return List.of(
                bench("scheduler crash (kill -9) → running again", "scheduler-kill", Outcome::recoveryMillis),
                bench("scheduler host crash → running on another host", "host-crash", Outcome::recoveryMillis),
                bench("ACTIVE agent kill -9 → new ACTIVE", "active-agent-kill", Outcome::newActiveMillis),
                bench(
                        "graceful handover: agent SIGTERM → running on another host",
                        "graceful-handover",
                        Outcome::recoveryMillis),
                bench(
                        "manual failover: command issued → running on the target",
                        "failover-manual",
                        o -> o.recoveryMillis()),
                bench(
                        "ZooKeeper leader loss → scheduler running (restarts: see right)",
                        "zk-leader-kill",
                        o -> o.recoveryMillis()));
    }

    private Benchmark bench(String measurement, String scenario, Function<Outcome, Long> figure) {
        List<Outcome> of =
                outcomes.stream().filter(o -> o.name().equals(scenario)).toList();
        List<Long> values =
                of.stream().map(figure).filter(Objects::nonNull).sorted().toList();
        String restarts = of.isEmpty()
                ? "-"
                : of.stream().map(o -> Integer.toString(o.restarts())).collect(Collectors.joining(", "));
        if (values.isEmpty()) {
            return new Benchmark(measurement, 0, null, null, null, restarts);
        }
        int p95 = (int) Math.ceil(0.95 * values.size()) - 1;
        return new Benchmark(
                measurement,
                values.size(),
                values.get((values.size() - 1) / 2),
                values.get(p95),
                values.get(values.size() - 1),
                restarts);
    }

    synchronized void writeJson(Path file) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("suite", suite);
        json.put("description", description);
        json.put("configuration", tunings.describe());
        json.put("l1BoundMillis", tunings.l1Bound().toMillis());
        json.put("sampling", sampling);
        json.put("outcomes", outcomes);
        json.put("benchmarks", benchmarks());
        json.put("idle", idle);
        json.put("tickRuns", tickRuns);
        json.put("tickOverlapMillis", tickOverlapMillis);
        json.put("tickOverlaps", tickOverlaps);
        json.put("wholeRunOverlapMillis", wholeRunOverlapMillis);
        json.put("wholeRunOverlaps", wholeRunOverlaps);
        json.put("lifetimeLock", lifetimesSummary);
        json.put("lifetimeOverlaps", lifetimeOverlaps);
        json.put("observerProblems", observerProblems);
        json.put("problems", problems());
        Files.createDirectories(file.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    }

    synchronized String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("## Proving ground: ")
                .append(suite)
                .append("\n\n")
                .append(description)
                .append("\n\n");
        md.append("Configuration: ")
                .append(tunings.describe())
                .append(". L1 bound: ")
                .append(tunings.l1Bound().toMillis())
                .append(" ms.\n\n");
        md.append("| scenario | fault | recovery ms | new ACTIVE ms | gap ms | overlap ms | restarts |"
                + " scheduler | ACTIVE | result |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Outcome o : outcomes) {
            md.append("| ")
                    .append(o.name())
                    .append(" | ")
                    .append(o.fault())
                    .append(" | ")
                    .append(dash(o.recoveryMillis()))
                    .append(" | ")
                    .append(dash(o.newActiveMillis()))
                    .append(" | ")
                    .append(o.gapMillis())
                    .append(" | ")
                    .append(o.overlapMillis())
                    .append(" | ")
                    .append(o.restarts())
                    .append(o.expectedRestarts() == null ? "" : " (expected " + o.expectedRestarts() + ")")
                    .append(" | ")
                    .append(o.schedulerPath())
                    .append(" | ")
                    .append(o.activePath())
                    .append(" | ")
                    .append(o.passed() ? "ok" : "**FAIL**: " + String.join("; ", o.problems()))
                    .append(o.notes().isEmpty() ? "" : " (" + String.join("; ", o.notes()) + ")")
                    .append(" |\n");
        }
        md.append("\n| measurement | n | median ms | p95 ms | max ms | scheduler restarts |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Benchmark b : benchmarks()) {
            md.append("| ")
                    .append(b.measurement())
                    .append(" | ")
                    .append(b.n())
                    .append(" | ")
                    .append(dash(b.median()))
                    .append(" | ")
                    .append(dash(b.p95()))
                    .append(" | ")
                    .append(dash(b.max()))
                    .append(" | ")
                    .append(b.restarts())
                    .append(" |\n");
        }
        if (idle != null) {
            md.append("\nAgents at idle (")
                    .append(idle.seconds())
                    .append(" s): RSS ")
                    .append(idle.rssKib().entrySet().stream()
                            .map(e -> e.getKey() + " " + e.getValue() / 1024 + " MiB")
                            .collect(Collectors.joining(", ")))
                    .append("; CPU ")
                    .append(idle.cpuPercent().entrySet().stream()
                            .map(e -> e.getKey() + " " + String.format("%.1f", e.getValue()) + " %")
                            .collect(Collectors.joining(", ")))
                    .append("; ZooKeeper writes ")
                    .append(String.format("%.2f", idle.zkWritesPerSecondPerAgent()))
                    .append(" per second per agent.\n");
        }
        md.append("\nStand-ins' own ticks: ")
                .append(tickRuns)
                .append(" runs, ")
                .append(tickOverlaps.size())
                .append(" overlapping pairs (")
                .append(tickOverlapMillis)
                .append(" ms). Observer over the whole run: ")
                .append(wholeRunOverlaps.size())
                .append(" samples with two scheduler processes (")
                .append(wholeRunOverlapMillis)
                .append(" ms); ")
                .append(sampling)
                .append(". Exact, by the schedulers' lifetime lock: ")
                .append(lifetimesSummary)
                .append(".\n");
        return md.toString();
    }

    synchronized void writeMarkdown(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, markdown());
    }

    private static String dash(Long value) {
        return value == null ? "-" : Long.toString(value);
    }
}
