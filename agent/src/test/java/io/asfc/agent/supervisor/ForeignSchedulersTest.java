package io.asfc.agent.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.supervisor.ForeignSchedulers.Foreign;
import io.asfc.agent.supervisor.ForeignSchedulers.Supervised;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Which processes on one host are schedulers asfc did not start: one table, every kind of process. */
class ForeignSchedulersTest {
    private static final Pattern PATTERN = Pattern.compile("airflow (scheduler|executor)");

    private static ProcessInfo p(long pid, long ppid, long sid, long ticks, String cmdline) {
        return new ProcessInfo(pid, ppid, pid, sid, 'S', ticks, cmdline);
    }

    // the agent and its launcher
    private static final ProcessInfo INIT = p(1, 0, 1, 1, "/sbin/init");
    private static final ProcessInfo AGENT = p(10, 1, 10, 5, "java -cp asfc.jar io.asfc.agent.cli.AsfcCli run");
    // a's supervised scheduler: the watchdog leads its session and names the start command
    private static final ProcessInfo WATCHDOG =
            p(100, 10, 100, 50, "bash -c ... asfc-scheduler-watchdog airflow scheduler");
    private static final ProcessInfo MAIN = p(101, 100, 100, 51, "airflow scheduler");
    private static final ProcessInfo MANAGER = p(102, 101, 100, 52, "airflow scheduler -- DagFileProcessorManager");
    // b's scheduler in the same pid namespace (the demo), and its helper
    private static final ProcessInfo B_MAIN = p(200, 1, 200, 60, "airflow scheduler");
    private static final ProcessInfo B_MANAGER = p(201, 200, 200, 61, "airflow scheduler -- DagFileProcessorManager");
    // an operator's shell, and the scheduler started by hand in it, with its helper
    private static final ProcessInfo SHELL = p(299, 1, 299, 70, "-bash");
    private static final ProcessInfo HAND = p(300, 299, 299, 71, "airflow scheduler");
    private static final ProcessInfo HAND_MANAGER =
            p(301, 300, 299, 72, "airflow scheduler -- DagFileProcessorManager");
    // what an earlier agent of a left without a session file
    private static final ProcessInfo LEFTOVER = p(400, 1, 400, 40, "airflow scheduler");
    // a container's scheduler, and another user's
    private static final ProcessInfo CONTAINER = p(500, 1, 500, 80, "airflow scheduler");
    private static final ProcessInfo OTHER_USER = p(600, 1, 600, 81, "airflow scheduler");
    // pid 700 was the supervised scheduler's (start 20); it is now a scheduler started by hand
    private static final ProcessInfo REUSED = p(700, 1, 700, 90, "airflow scheduler");
    private static final ProcessInfo UNRELATED = p(800, 1, 800, 91, "python app.py");

    private static final ProcessTable TABLE = ProcessTable.of(List.of(
            INIT,
            AGENT,
            WATCHDOG,
            MAIN,
            MANAGER,
            B_MAIN,
            B_MANAGER,
            SHELL,
            HAND,
            HAND_MANAGER,
            LEFTOVER,
            CONTAINER,
            OTHER_USER,
            REUSED,
            UNRELATED));

    private static final Map<Long, ProcessOrigin> ORIGINS = Map.ofEntries(
            Map.entry(100L, ProcessOrigin.marked("a")),
            Map.entry(101L, ProcessOrigin.marked("a")),
            Map.entry(102L, ProcessOrigin.marked("a")),
            Map.entry(200L, ProcessOrigin.marked("b")),
            Map.entry(201L, ProcessOrigin.marked("b")),
            Map.entry(400L, ProcessOrigin.marked("a")),
            Map.entry(500L, ProcessOrigin.ELSEWHERE),
            Map.entry(600L, ProcessOrigin.UNKNOWN));

    private static final Set<Long> PROTECTED = Set.of(1L, 10L);

    private static List<Foreign> find(Supervised supervised) {
        return ForeignSchedulers.find(
                TABLE, PATTERN, "a", supervised, PROTECTED, p -> ORIGINS.getOrDefault(p.pid(), ProcessOrigin.UNMARKED));
    }

    private static Map<Long, String> summary(List<Foreign> found) {
        return found.stream()
                .collect(Collectors.toMap(
                        f -> f.root().pid(),
                        f -> (f.verified() ? "stop " : "report ")
                                + f.tree().stream().map(ProcessInfo::pid).toList()));
    }

    private static final List<ProcessInfo> SUPERVISED =
            List.of(WATCHDOG, MAIN, MANAGER, new ProcessInfo(700, 100, 700, 100, 'S', 20, "airflow scheduler"));

    @Test
    void childMode() {
        Map<Long, String> found = summary(find(new Supervised(SUPERVISED, Set.of(), false, true)));
        assertEquals(
                Map.of(
                        300L, "stop [300, 301]", // by hand: with its helper, without the operator's shell
                        400L, "stop [400]", // a's own mark outside its tree: left by an earlier agent
                        600L, "report [600]", // cannot tell who started it: never stopped
                        700L, "stop [700]"), // a reused pid is not the supervised process
                found,
                "never a's tree (100-102), b's (200-201), a container's (500), the agent, or a non-match");
    }

    @Test
    void commandModeCountsItsOwnMarkAsItsScheduler() {
        Map<Long, String> found = summary(find(new Supervised(List.of(MAIN, MANAGER), Set.of(), true, true)));
        assertEquals(Map.of(300L, "stop [300, 301]", 600L, "report [600]", 700L, "stop [700]"), found);
    }

    @Test
    void aRunnerThatCannotTellItsOwnOnlyReports() {
        Map<Long, String> found = summary(find(new Supervised(List.of(), Set.of(), true, false)));
        assertEquals(
                Map.of(300L, "report [300, 301]", 600L, "report [600]", 700L, "report [700]"),
                found,
                "nothing is stopped when the runner cannot tell which scheduler is its own");
    }

    @Test
    void nothingSupervisedLeavesOtherNodesAlone() {
        List<Foreign> found = find(Supervised.nothing(false));
        assertTrue(
                found.stream().noneMatch(f -> f.root().pid() == 200 || f.root().pid() == 201), found::toString);
        // without a supervised tree a's own scheduler counts as left behind: the runner tracks nothing
        assertTrue(
                found.stream().anyMatch(f -> f.root().pid() == 100 && f.tree().size() == 3), found::toString);
    }

    @Test
    void theCommandLineIsCutInTheDescription() {
        ProcessInfo longOne = p(900, 1, 900, 99, "airflow scheduler " + "x".repeat(500));
        Foreign f = new Foreign(longOne, List.of(longOne), true);
        assertTrue(f.describe().startsWith("pid 900 (airflow scheduler xxx"), f.describe());
        assertTrue(f.describe().length() < 220, f.describe());
    }
}
