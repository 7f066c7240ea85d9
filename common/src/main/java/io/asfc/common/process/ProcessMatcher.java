package io.asfc.common.process;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Finds scheduler processes on this host by a regular expression searched for (not matched
 * whole) in each command line.
 *
 * <p>It never returns a protected process: this JVM, its ancestors (the agent's launcher shell,
 * systemd), any process in the tree of an excluded root (the agent's own helper commands, e.g. the
 * shell running a check or a stop command, see {@link ProcessTable#tree}), or a zombie. So a
 * pattern like {@code airflow scheduler} cannot hit the shell of {@code sh -c "... airflow
 * scheduler ..."} that the agent runs, nor the agent itself.
 */
public final class ProcessMatcher {
    private static final Comparator<ProcessInfo> OLDEST_FIRST =
            Comparator.comparingLong(ProcessInfo::startTicks).thenComparingLong(ProcessInfo::pid);

    private final Pattern pattern;
    private final long selfPid;

    public ProcessMatcher(Pattern pattern) {
        this(pattern, ProcessHandle.current().pid());
    }

    /**
     * A matcher for a table read on another host (or a synthetic one in tests): {@code selfPid} is the
     * process that read it there, protected like this JVM is here.
     */
    public ProcessMatcher(Pattern pattern, long selfPid) {
        this.pattern = pattern;
        this.selfPid = selfPid;
    }

    public Pattern pattern() {
        return pattern;
    }

    /** The unprotected processes whose command line contains a match, oldest first. */
    public List<ProcessInfo> find(ProcessTable table, Set<Long> excludedRoots) {
        Set<Long> protectedPids = protectedPids(table, excludedRoots);
        return table
                .matching(p -> !protectedPids.contains(p.pid())
                        && pattern.matcher(p.cmdline()).find())
                .stream()
                .sorted(OLDEST_FIRST)
                .toList();
    }

    /**
     * Those of {@code matches} that are not helpers ({@code scheduler.helper-pattern}): the
     * scheduler's main processes. Without a helper pattern, every match is one.
     */
    public static List<ProcessInfo> mains(List<ProcessInfo> matches, Optional<Pattern> helpers) {
        return helpers.map(h -> matches.stream()
                        .filter(p -> !h.matcher(p.cmdline()).find())
                        .toList())
                .orElse(matches);
    }

    /**
     * The {@linkplain ProcessTable#tree trees} of {@code roots}, without protected processes: what
     * a stop may signal. Keyed by pid, oldest first.
     */
    public Map<Long, ProcessInfo> trees(ProcessTable table, Collection<Long> roots, Set<Long> excludedRoots) {
        Set<Long> protectedPids = protectedPids(table, excludedRoots);
        Map<Long, ProcessInfo> result = new LinkedHashMap<>();
        roots.stream()
                .flatMap(root -> table.tree(root).stream())
                .filter(p -> !protectedPids.contains(p.pid()))
                .sorted(OLDEST_FIRST)
                .forEach(p -> result.putIfAbsent(p.pid(), p));
        return result;
    }

    /** Pids nothing may ever signal: this JVM, its ancestors, and the trees of the excluded roots. */
    public Set<Long> protectedPids(ProcessTable table, Set<Long> excludedRoots) {
        Set<Long> result = new HashSet<>(table.ancestry(selfPid));
        result.add(selfPid);
        for (long root : excludedRoots) {
            result.add(root);
            table.tree(root).forEach(p -> result.add(p.pid()));
        }
        return result;
    }
}
