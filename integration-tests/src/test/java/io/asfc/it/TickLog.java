package io.asfc.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stand-in schedulers' own account of when they ran: each appends {@code "<host> <epoch-ms> <pid>"} to a shared
 * tick file every 50 ms, like a scheduler heartbeating into its database. The ticks of one pid form a run; two runs
 * that overlap in time are two schedulers working at once, seen from the inside (S1), and the time between one run's
 * last tick and the next run's first is how long no scheduler worked.
 */
public final class TickLog {

    private TickLog() {}

    /** The ticks of one scheduler process: from its first to its last, in wall-clock ms. */
    public record Run(String host, long pid, long firstMillis, long lastMillis, int ticks) {
        boolean overlaps(Run other) {
            return firstMillis <= other.lastMillis && other.firstMillis <= lastMillis;
        }
    }

    /** The runs in the tick file, by first tick; empty when there is no file. Torn lines are skipped. */
    public static List<Run> runs(Path file) throws IOException {
        return runs(file, Long.MAX_VALUE);
    }

    /**
     * The runs in the tick file, as {@link #runs(Path)}, where a run is the ticks of one pid on one host (pids are
     * per PID namespace, so two hosts may use the same), and a silence longer than {@code silenceMillis} ends a run:
     * a host that was rebooted may give the same pid to another process.
     */
    public static List<Run> runs(Path file, long silenceMillis) throws IOException {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        Map<String, Run> open = new LinkedHashMap<>();
        List<Run> runs = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.trim().split(" ");
            if (f.length != 3) {
                continue; // a line being written as the file was read
            }
            long at;
            long pid;
            try {
                at = Long.parseLong(f[1]);
                pid = Long.parseLong(f[2]);
            } catch (NumberFormatException e) {
                continue; // a line being written as the file was read
            }
            String key = f[0] + " " + pid;
            Run run = open.get(key);
            if (run != null && at - run.lastMillis() > silenceMillis) {
                runs.add(run);
                run = null;
            }
            open.put(
                    key,
                    run == null
                            ? new Run(f[0], pid, at, at, 1)
                            : new Run(
                                    f[0],
                                    pid,
                                    Math.min(run.firstMillis(), at),
                                    Math.max(run.lastMillis(), at),
                                    run.ticks() + 1));
        }
        runs.addAll(open.values());
        runs.sort(Comparator.comparingLong(Run::firstMillis));
        return runs;
    }

    /** Every pair of runs (of different processes) that overlap in time. */
    public static List<String> overlaps(List<Run> runs) {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            for (int j = i + 1; j < runs.size(); j++) {
                if (runs.get(i).overlaps(runs.get(j))) {
                    found.add(runs.get(i) + " overlaps " + runs.get(j));
                }
            }
        }
        return found;
    }

    /** A table of the runs and the gap before each, for the report. */
    static String table(List<Run> runs) {
        StringBuilder table =
                new StringBuilder("| host | pid | ran ms | ticks | gap before ms |\n|---|---|---|---|---|\n");
        Run previous = null;
        for (Run run : runs) {
            table.append("| ")
                    .append(run.host())
                    .append(" | ")
                    .append(run.pid())
                    .append(" | ")
                    .append(run.lastMillis() - run.firstMillis())
                    .append(" | ")
                    .append(run.ticks())
                    .append(" | ")
                    .append(previous == null ? "-" : Long.toString(run.firstMillis() - previous.lastMillis()))
                    .append(" |\n");
            previous = run;
        }
        return table.toString();
    }
}
