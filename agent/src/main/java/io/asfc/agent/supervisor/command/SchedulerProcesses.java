package io.asfc.agent.supervisor.command;

import io.asfc.agent.supervisor.ForeignSchedulers.Supervised;
import io.asfc.common.process.PidFileEntry;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessMatcher;
import io.asfc.common.process.ProcessTable;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Finds the local scheduler's processes in a {@link ProcessTable}: by the pid file when one is
 * configured, else by the process pattern. Nothing it returns is ever a protected process: this
 * JVM, its ancestors, or the tree of a helper command that is running now.
 */
final class SchedulerProcesses {
    /** What one look found. */
    enum Seen {
        RUNNING,
        NOT_RUNNING,
        /** The pid file exists but says nothing usable. */
        UNKNOWN
    }

    /** @param main the main process, or null when none is known */
    record Observation(Seen seen, ProcessInfo main, String problem) {}

    private final Optional<Path> pidFile;
    private final ProcessMatcher matcher;
    private final Optional<Pattern> helperPattern;
    private final Supplier<Set<Long>> helpers;

    SchedulerProcesses(
            Optional<Path> pidFile,
            ProcessMatcher matcher,
            Optional<Pattern> helperPattern,
            Supplier<Set<Long>> helpers) {
        this.pidFile = pidFile;
        this.matcher = matcher;
        this.helperPattern = helperPattern;
        this.helpers = helpers;
    }

    /**
     * Pid-file mode: running iff the pid in the file is alive (not a zombie) and not protected.
     * Pattern mode: running iff a process matches that is not a helper ({@code helper-pattern});
     * the oldest such match is the main process. Helpers alone are what a dead main left behind.
     */
    Observation look(ProcessTable table) {
        if (pidFile.isPresent()) {
            return lookAtPidFile(table, pidFile.get());
        }
        List<ProcessInfo> mains = ProcessMatcher.mains(matcher.find(table, helpers.get()), helperPattern);
        return mains.isEmpty()
                ? new Observation(Seen.NOT_RUNNING, null, null)
                : new Observation(Seen.RUNNING, mains.get(0), null);
    }

    /** The pid file's process, when a pid file is configured and its process runs. */
    Optional<ProcessInfo> pidFileProcess(ProcessTable table) {
        return pidFile.map(file -> lookAtPidFile(table, file).main());
    }

    /**
     * What a stop must signal: the tree of the pid file's process when it runs (a precise tree
     * beats any pattern); else, with or without a pid file, the trees of every process matching the
     * pattern, which also catches what a crashed main process left behind. Keyed by pid.
     */
    Map<Long, ProcessInfo> targets(ProcessTable table) {
        Set<Long> excluded = helpers.get();
        Optional<ProcessInfo> main = pidFileProcess(table);
        Collection<Long> roots = main.isPresent()
                ? List.of(main.get().pid())
                : matcher.find(table, excluded).stream().map(ProcessInfo::pid).toList();
        return matcher.trees(table, roots, excluded);
    }

    /**
     * The scheduler this host's runner supervises, for the foreign sweep: the pid file's process
     * and its tree when a pid file is configured; else the oldest main match (preferring one that
     * {@code ownMark}s: this agent's start-command started it) and its tree. Empty when no main runs
     * (a pid file not written yet: a start may be under way) or the pid file says nothing usable.
     * With a check-command and no pid file the runner cannot tell its own scheduler from a second
     * one unless one bears its mark: then foreign ones are only reported.
     */
    Optional<Supervised> supervised(ProcessTable table, boolean checkCommand, Predicate<ProcessInfo> ownMark) {
        Set<Long> excluded = helpers.get();
        ProcessInfo main;
        boolean certain = true;
        if (pidFile.isPresent()) {
            main = lookAtPidFile(table, pidFile.get()).main();
        } else {
            List<ProcessInfo> mains = ProcessMatcher.mains(matcher.find(table, excluded), helperPattern);
            Optional<ProcessInfo> own = mains.stream().filter(ownMark).findFirst();
            main = own.orElse(mains.isEmpty() ? null : mains.get(0));
            certain = own.isPresent() || !checkCommand;
        }
        if (main == null) {
            return Optional.empty();
        }
        return Optional.of(new Supervised(
                matcher.trees(table, List.of(main.pid()), excluded).values(), excluded, true, certain));
    }

    /**
     * Those of {@code earlier} that are still the same processes (same pid and start time) in
     * {@code table}, and not protected now, as they are in {@code table}.
     */
    Map<Long, ProcessInfo> stillRunning(ProcessTable table, Collection<ProcessInfo> earlier) {
        Set<Long> protectedPids = matcher.protectedPids(table, helpers.get());
        Map<Long, ProcessInfo> result = new LinkedHashMap<>();
        for (ProcessInfo before : earlier) {
            table.get(before.pid())
                    .filter(now -> now.startTicks() == before.startTicks() && !now.isZombie())
                    .filter(now -> !protectedPids.contains(now.pid()))
                    .ifPresent(now -> result.put(now.pid(), now));
        }
        return result;
    }

    private Observation lookAtPidFile(ProcessTable table, Path file) {
        PidFileEntry entry = PidFileEntry.read(file);
        switch (entry.kind()) {
            case ABSENT:
                return new Observation(Seen.NOT_RUNNING, null, null);
            case UNUSABLE:
                return new Observation(Seen.UNKNOWN, null, entry.problem());
            default:
                break;
        }
        Set<Long> protectedPids = matcher.protectedPids(table, helpers.get());
        Optional<ProcessInfo> main =
                table.get(entry.pid()).filter(p -> !p.isZombie()).filter(p -> !protectedPids.contains(p.pid()));
        return main.map(p -> new Observation(Seen.RUNNING, p, null))
                .orElseGet(() -> new Observation(Seen.NOT_RUNNING, null, null));
    }
}
