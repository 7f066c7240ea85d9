package io.asfc.agent.hooks;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.asfc.agent.metrics.Metrics;
import io.asfc.common.process.ConfiguredCommand;
import io.asfc.common.process.TreeStopper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hooks.on-event without ZooKeeper: its environment, its timeout, its failures. */
class CommandHookTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final Metrics metrics = new Metrics("a", "default", "test", Map.of(), System::nanoTime);
    private CommandHook hook;

    @AfterEach
    void close() {
        if (hook != null) {
            hook.close();
        }
    }

    @Test
    void theHookGetsTheEventInItsEnvironmentAndNoOtherVariableOfTheAgent() throws Exception {
        Path env = dir.resolve("env");
        start("env > '" + env + "'", Duration.ofSeconds(10), 10);

        hook.offer(event("failover", "from a to b"));

        await().atMost(WAIT).until(() -> ok() == 1);
        Map<String, String> seen = Files.readAllLines(env).stream()
                .filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
        assertEquals("failover", seen.get("ASFC_EVENT"));
        assertEquals("b", seen.get("ASFC_NODE"));
        assertEquals("default", seen.get("ASFC_CLUSTER"));
        assertEquals("from a to b", seen.get("ASFC_REASON"));
        assertEquals("42", seen.get("ASFC_EPOCH"));
        Set<String> allowed = new HashSet<>(ConfiguredCommand.INHERITED);
        allowed.addAll(event("x", "y").environment().keySet());
        allowed.addAll(List.of("PWD", "OLDPWD", "SHLVL", "_")); // set by the shell itself
        Set<String> others = new HashSet<>(seen.keySet());
        others.removeAll(allowed);
        assertEquals(Set.of(), others, "variables a hook must not inherit");
    }

    @Test
    void eventDataIsNeverParsedAsShellSyntax() throws Exception {
        Path out = dir.resolve("reason");
        Path touched = dir.resolve("touched");
        String reason = "$(touch " + touched + ") `touch " + touched + "`; touch " + touched;
        start("printf '%s' \"$ASFC_REASON\" > '" + out + "'", Duration.ofSeconds(10), 10);

        hook.offer(event("scheduler-moving", reason));

        await().atMost(WAIT).until(() -> ok() == 1);
        assertEquals(reason, Files.readString(out));
        assertFalse(Files.exists(touched));
    }

    @Test
    void aHookThatOutlivesItsTimeoutIsStoppedWithItsWholeTreeAndTheNextEventStillRuns() throws Exception {
        Path pids = dir.resolve("pids");
        Path ran = dir.resolve("ran");
        start(
                "if [ \"$ASFC_EVENT\" = hang ]; then sleep 600 & echo $! >> '" + pids + "'; echo $$ >> '" + pids
                        + "'; wait; else echo \"$ASFC_EVENT\" >> '" + ran + "'; fi",
                Duration.ofSeconds(1),
                10);

        hook.offer(event("hang", ""));
        hook.offer(event("after", ""));

        await().atMost(WAIT).until(() -> timeouts() == 1);
        List<Long> started =
                Files.readAllLines(pids).stream().map(Long::parseLong).toList();
        assertEquals(2, started.size(), started::toString);
        await().atMost(WAIT).until(() -> started.stream().noneMatch(CommandHookTest::alive));
        await().atMost(WAIT)
                .until(() -> Files.exists(ran) && Files.readAllLines(ran).equals(List.of("after")));
    }

    @Test
    void aFailingHookIsCountedAndNeverRetried() throws Exception {
        Path ran = dir.resolve("ran");
        start("echo \"$ASFC_EVENT\" >> '" + ran + "'; exit 3", Duration.ofSeconds(10), 10);

        hook.offer(event("failover", ""));

        await().atMost(WAIT).until(() -> failed() == 1);
        await().during(Duration.ofSeconds(1))
                .atMost(WAIT)
                .until(() -> Files.readAllLines(ran).equals(List.of("failover")) && failed() == 1);
    }

    @Test
    void aFullQueueDropsTheOldestWaitingEventAndCountsIt() throws Exception {
        Path ran = dir.resolve("ran");
        start(
                "if [ \"$ASFC_EVENT\" = hang ]; then sleep 600; fi; echo \"$ASFC_EVENT\" >> '" + ran + "'",
                Duration.ofSeconds(2),
                1);

        hook.offer(event("hang", "")); // runs (and hangs) on the hook's thread
        hook.offer(event("one", "")); // waits
        hook.offer(event("two", "")); // the queue is full: "one" is dropped

        await().atMost(WAIT)
                .until(() -> Files.exists(ran) && Files.readAllLines(ran).equals(List.of("two")));
        assertEquals(1, MetricsText.value(metrics, "asfc_hook_events_dropped_total{sink=\"command\"}"));
    }

    private void start(String command, Duration timeout, int queue) {
        hook = new CommandHook(
                "a", command, timeout, queue, dir.resolve("hooks-a.out"), new TreeStopper(System::nanoTime), metrics);
    }

    private static HookEvent event(String type, String reason) {
        return new HookEvent(type, "default", "b", reason, OptionalLong.of(42), Instant.now(), null);
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !isZombie(pid);
    }

    private static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.io.IOException e) {
            return true; // gone
        }
    }

    private double ok() {
        return MetricsText.value(metrics, "asfc_hook_runs_total{result=\"ok\"}");
    }

    private double failed() {
        return MetricsText.value(metrics, "asfc_hook_runs_total{result=\"failed\"}");
    }

    private double timeouts() {
        return MetricsText.value(metrics, "asfc_hook_runs_total{result=\"timeout\"}");
    }
}
