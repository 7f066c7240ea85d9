package io.asfc.common.process;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessMatcherTest {
    private static final Pattern DEFAULT =
            Pattern.compile("airflow (scheduler|executor)|airflow worker -- LocalExecutor");

    /** A host described in a fake /proc: the agent (pid 20) runs a helper shell (pid 30). */
    @Nested
    class SyntheticHost {
        private static final long AGENT = 20;
        private static final long HELPER = 30;

        @TempDir
        Path proc;

        private ProcessTable table;
        private final ProcessMatcher matcher = new ProcessMatcher(DEFAULT, AGENT);

        void describeHost() throws IOException {
            process(1, 0, 1, 'S', 1, "/sbin/init");
            // the agent's launcher and the agent: both happen to mention the pattern
            process(10, 1, 10, 'S', 50, "bash /opt/airflow scheduler-failover/bin/start");
            process(AGENT, 10, 10, 'S', 60, "java -Dasfc.note=airflow-scheduler -jar airflow scheduler.jar");
            // a helper command of the agent, in its own session, with a child and a detached member
            process(HELPER, AGENT, HELPER, 'S', 900, "/bin/sh -c pgrep -f 'airflow scheduler'");
            process(31, HELPER, HELPER, 'S', 901, "pgrep -f airflow scheduler");
            process(32, 1, HELPER, 'S', 902, "sleep 5 airflow scheduler");
            // the scheduler tree
            process(40, 1, 40, 'S', 500, "airflow scheduler");
            process(41, 40, 40, 'S', 510, "airflow scheduler -- DagFileProcessorManager");
            process(42, 41, 40, 'S', 520, "airflow scheduler - DagFileProcessor /dags/x.py");
            process(43, 40, 40, 'S', 530, "airflow worker -- LocalExecutor");
            process(44, 40, 40, 'Z', 540, "airflow worker -- LocalExecutor");
            // unrelated: an editor, and a Celery worker (Airflow 1.x and 2.x) with its own log server
            process(50, 1, 50, 'S', 10, "vim notes.txt");
            process(60, 1, 60, 'S', 100, "airflow serve-logs");
            process(61, 1, 61, 'S', 110, "/venv/bin/python /venv/bin/airflow worker");
            process(62, 1, 62, 'S', 120, "/venv/bin/python /venv/bin/airflow celery worker");
            table = ProcessTable.snapshot(proc);
        }

        @Test
        void findsEveryTitleOfTheSchedulerTreeOldestFirst() throws IOException {
            describeHost();

            assertEquals(List.of(40L, 41L, 42L, 43L), pids(matcher.find(table, Set.of(HELPER))));
        }

        @Test
        void neverFindsTheAgentItsAncestorsOrTheTreeOfAHelper() throws IOException {
            describeHost();
            List<Long> naive =
                    pids(table.matching(p -> DEFAULT.matcher(p.cmdline()).find()));
            assertTrue(naive.containsAll(List.of(10L, AGENT, HELPER, 31L, 32L)), "the host is a fair test: " + naive);

            List<Long> found = pids(matcher.find(table, Set.of(HELPER)));

            assertTrue(found.stream().noneMatch(List.of(10L, AGENT, HELPER, 31L, 32L)::contains), found::toString);
        }

        @Test
        void aHelperThatIsNotExcludedIsFound() throws IOException {
            describeHost();

            assertTrue(pids(matcher.find(table, Set.of())).containsAll(List.of(HELPER, 31L, 32L)));
        }

        @Test
        void zombiesAreNeverFound() throws IOException {
            describeHost();

            assertFalse(pids(matcher.find(table, Set.of())).contains(44L));
        }

        @Test
        void thePatternIsSearchedForNotMatchedWhole() throws IOException {
            describeHost();

            List<Long> found =
                    pids(new ProcessMatcher(Pattern.compile("DagFileProcessor"), AGENT).find(table, Set.of()));

            assertEquals(List.of(41L, 42L), found);
        }

        @Test
        void treesHoldTheWholeSchedulerButNeverTheAgentOrAHelper() throws IOException {
            describeHost();

            assertEquals(
                    Set.of(40L, 41L, 42L, 43L),
                    matcher.trees(table, List.of(40L), Set.of(HELPER)).keySet());
            // a root that is the agent's ancestor: its tree holds the agent and the helper
            assertEquals(
                    Set.of(), matcher.trees(table, List.of(10L), Set.of(HELPER)).keySet());
        }

        private void process(long pid, long ppid, long sid, char state, long startTicks, String cmdline)
                throws IOException {
            Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
            String stat = pid + " (x) " + state + " " + ppid + " " + pid + " " + sid + " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
                    + startTicks + " 0 0\n";
            Files.writeString(dir.resolve("stat"), stat);
            Files.write(dir.resolve("cmdline"), (cmdline.replace(' ', '\0') + "\0").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Real processes: the Airflow stand-in, a helper shell and this JVM. */
    @Nested
    class RealHost {
        private static final Path STANDIN = Path.of(System.getProperty("user.dir"))
                .resolve("../integration-tests/src/main/standin/airflow_standin.py")
                .normalize();

        private final List<Process> started = new ArrayList<>();
        private final ProcessMatcher matcher = new ProcessMatcher(DEFAULT);

        @AfterEach
        void killWhatWeStarted() {
            for (Process p : started) {
                ProcessTable.snapshot().tree(p.pid()).forEach(info -> ProcessHandle.of(info.pid())
                        .ifPresent(ProcessHandle::destroyForcibly));
                p.destroyForcibly();
            }
        }

        @Test
        void findsEveryProcessOfTheStandInScheduler() throws IOException {
            Process standin = start("setsid", "python3", STANDIN.toString());
            // Wait for one table in which the whole tree is up and titled: main, manager, processor and
            // worker. (A pyenv shim's own short-lived helpers may be in the tree before that.)
            AtomicReference<ProcessTable> up = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                ProcessTable t = ProcessTable.snapshot();
                var tree = t.tree(standin.pid());
                up.set(t);
                return tree.size() == 4
                        && tree.stream().allMatch(p -> p.cmdline().startsWith("airflow "));
            });
            ProcessTable table = up.get();
            List<Long> tree =
                    table.tree(standin.pid()).stream().map(ProcessInfo::pid).toList();

            List<Long> found = pids(matcher.find(table, Set.of()));

            assertEquals(4, tree.size(), () -> String.valueOf(table.tree(standin.pid())));
            assertTrue(found.containsAll(tree), () -> found + " lacks some of " + tree);
        }

        @Test
        void aHelperShellThatMentionsTheSchedulerIsNotFoundWhenExcluded() throws IOException {
            Process helper = start("setsid", "sh", "-c", ": airflow scheduler; sleep 300");
            await().atMost(Duration.ofSeconds(10)).until(() -> pids(matcher.find(ProcessTable.snapshot(), Set.of()))
                    .contains(helper.pid()));

            List<Long> found = pids(matcher.find(ProcessTable.snapshot(), Set.of(helper.pid())));

            assertFalse(found.contains(helper.pid()), found::toString);
        }

        @Test
        void neverFindsThisJvmOrItsParent() {
            ProcessTable table = ProcessTable.snapshot();
            long self = ProcessHandle.current().pid();
            ProcessInfo me = table.get(self).orElseThrow();
            ProcessInfo parent = table.get(me.ppid()).orElseThrow();

            for (ProcessInfo target : List.of(me, parent)) {
                ProcessMatcher aimed = new ProcessMatcher(Pattern.compile(Pattern.quote(target.cmdline())));
                assertTrue(
                        pids(table.matching(p ->
                                        aimed.pattern().matcher(p.cmdline()).find()))
                                .contains(target.pid()),
                        "the pattern is aimed at " + target);

                assertFalse(pids(aimed.find(table, Set.of())).contains(target.pid()));
            }
        }

        private Process start(String... command) throws IOException {
            Process p = new ProcessBuilder(command)
                    .redirectInput(new File("/dev/null"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            started.add(p);
            return p;
        }
    }

    private static List<Long> pids(List<ProcessInfo> processes) {
        return processes.stream().map(ProcessInfo::pid).toList();
    }
}
