package io.asfc.agent.supervisor;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Decides which scheduler processes on this host asfc did not start ({@code scheduler.foreign}),
 * from one process table, without effects. A process is foreign to node N when
 *
 * <ul>
 *   <li>its command line matches N's {@code process-pattern};
 *   <li>it is not protected (the agent, its ancestors, the runner's helper commands) and not one of
 *       the supervised scheduler's processes (same pid and start time: a reused pid is not ours);
 *   <li>it runs in the agent's own pid and network namespaces (another one is another host, or a
 *       container: {@link ProcessOrigin.Kind#ELSEWHERE});
 *   <li>it carries no asfc mark ({@code ASFC_NODE}), or N's own mark when the runner does not
 *       count its own mark as its scheduler (child mode: what an earlier agent left without its
 *       session file). Another node's mark is never foreign: the demo and the tests run several
 *       agents in one pid namespace.
 * </ul>
 *
 * One whose origin cannot be read ({@link ProcessOrigin.Kind#UNKNOWN}, another user's) is reported
 * as unverified: it is never stopped. Matches inside another foreign match's tree are that one's.
 */
public final class ForeignSchedulers {
    private static final int CMDLINE_SHOWN = 200;

    private ForeignSchedulers() {}

    /**
     * What the runner supervises now, as the sweep must leave it.
     *
     * @param processes the supervised scheduler's processes (pid and start time)
     * @param helpers roots of the runner's helper commands running now (their trees are protected)
     * @param ownMarkIsOurs a process marked with this node's id is the runner's (command mode: a
     *     start-command may daemonize out of the tracked tree), never foreign
     * @param certain the runner knows which scheduler is its own; when not, foreign ones are only
     *     reported, never stopped
     */
    public record Supervised(
            Collection<ProcessInfo> processes, Set<Long> helpers, boolean ownMarkIsOurs, boolean certain) {
        /** Nothing runs under the runner: every unmarked match is foreign. */
        public static Supervised nothing(boolean ownMarkIsOurs) {
            return new Supervised(List.of(), Set.of(), ownMarkIsOurs, true);
        }
    }

    /**
     * One foreign scheduler.
     *
     * @param root the match outermost in its tree
     * @param tree what a stop signals: the root's {@linkplain ProcessTable#tree tree}, without
     *     protected, supervised or other nodes' processes
     * @param verified its origin could be read; an unverified one is only reported
     */
    public record Foreign(ProcessInfo root, List<ProcessInfo> tree, boolean verified) {
        /** e.g. {@code pid 123 (airflow scheduler)}, the command line cut to 200 characters. */
        public String describe() {
            String cmd = root.cmdline();
            return "pid " + root.pid() + " ("
                    + (cmd.length() <= CMDLINE_SHOWN ? cmd : cmd.substring(0, CMDLINE_SHOWN - 3) + "...") + ")";
        }

        /** Pid and start time: the same process across looks. */
        public String key() {
            return root.pid() + ":" + root.startTicks();
        }
    }

    /**
     * @param protectedPids never foreign, nor in a foreign tree: the agent, its ancestors, the
     *     trees of the runner's helpers
     * @param origin where a process comes from ({@link ProcessOrigin#of} on this host)
     */
    public static List<Foreign> find(
            ProcessTable table,
            Pattern pattern,
            String node,
            Supervised supervised,
            Set<Long> protectedPids,
            Function<ProcessInfo, ProcessOrigin> origin) {
        Set<String> ours =
                supervised.processes().stream().map(ForeignSchedulers::id).collect(Collectors.toSet());
        Map<Long, Boolean> found = new LinkedHashMap<>(); // pid -> verified
        table
                .matching(p -> !protectedPids.contains(p.pid())
                        && !ours.contains(id(p))
                        && pattern.matcher(p.cmdline()).find())
                .stream()
                .sorted(Comparator.comparingLong(ProcessInfo::startTicks).thenComparingLong(ProcessInfo::pid))
                .forEach(p -> verdict(origin.apply(p), node, supervised.ownMarkIsOurs())
                        .ifPresent(verified -> found.put(p.pid(), verified)));
        List<Foreign> result = new ArrayList<>();
        for (Map.Entry<Long, Boolean> e : found.entrySet()) {
            ProcessInfo p = table.get(e.getKey()).orElseThrow();
            if (insideAnother(table, p, found.keySet())) {
                continue;
            }
            List<ProcessInfo> tree = table.tree(p.pid()).stream()
                    .filter(q -> q.startTicks() >= p.startTicks())
                    .filter(q -> !protectedPids.contains(q.pid()) && !ours.contains(id(q)))
                    .filter(q -> q.pid() == p.pid()
                            || verdict(origin.apply(q), node, supervised.ownMarkIsOurs())
                                    .isPresent())
                    .sorted(Comparator.comparingLong(ProcessInfo::startTicks))
                    .toList();
            result.add(new Foreign(p, tree, e.getValue() && supervised.certain()));
        }
        return result;
    }

    /** Empty: not foreign; true: foreign; false: maybe foreign (origin unreadable). */
    static Optional<Boolean> verdict(ProcessOrigin origin, String node, boolean ownMarkIsOurs) {
        return switch (origin.kind()) {
            case UNMARKED -> Optional.of(true);
            case UNKNOWN -> Optional.of(false);
            case ELSEWHERE -> Optional.empty();
            case MARKED -> node.equals(origin.node()) && !ownMarkIsOurs ? Optional.of(true) : Optional.empty();
        };
    }

    /** Whether an ancestor of {@code p}, or the leader of its session, is another foreign match. */
    private static boolean insideAnother(ProcessTable table, ProcessInfo p, Set<Long> foreign) {
        if (p.sid() != p.pid() && foreign.contains(p.sid())) {
            return true;
        }
        return table.ancestry(p.ppid()).stream().anyMatch(foreign::contains);
    }

    private static String id(ProcessInfo p) {
        return p.pid() + ":" + p.startTicks();
    }
}
