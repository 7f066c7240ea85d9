package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The stop-with-agent watchdog and deadman, driven the way the kernel drives it when the agent dies or freezes. */
class WatchdogTest {
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process p : started) {
            ProcessTable.snapshot().tree(p.pid()).forEach(i -> ProcessHandle.of(i.pid())
                    .ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void sessionStopsWhenTheAgentsEndOfThePipeCloses() throws Exception {
        Process watchdog = start("sleep 301 & sleep 302 & wait", Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> commands(watchdog).containsAll(List.of("sleep 301", "sleep 302")));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> session.stream()
                .allMatch(TreeStopper::isAlive)); // alive while the agent is

        watchdog.getOutputStream().close(); // what the kernel does when the agent dies, even by SIGKILL

        await().atMost(Duration.ofSeconds(5)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
    }

    @Test
    void childrenThatIgnoreTermAreKilledAfterTheStopTimeout() throws Exception {
        Process watchdog = start("trap '' TERM; sleep 303 & wait", Duration.ofMillis(500));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 303"));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() -> session.stream()
                .allMatch(TreeStopper::isAlive));

        watchdog.getOutputStream().close();

        await().atMost(Duration.ofSeconds(5)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
    }

    @Test
    void exitsWithTheSchedulersStatusAndLeavesNothingBehind() throws Exception {
        Process watchdog = start("exit 7", Duration.ofSeconds(1));

        assertEquals(7, watchdog.waitFor());
        // The shell SIGKILLs its watcher as it exits; the kill lands a moment later.
        await("the watcher ends too")
                .atMost(Duration.ofSeconds(5))
                .until(() -> ProcessTable.snapshot().tree(watchdog.pid()).isEmpty());
    }

    @Test
    void sessionStopsWhenRenewalsStopForTheDeadmanTimeout() throws Exception {
        Process watchdog = start("sleep 304 & wait", Duration.ofMillis(500), Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(watchdog).contains("sleep 304"));
        Set<ProcessInfo> session = ProcessTable.snapshot().tree(watchdog.pid());
        var pipe = watchdog.getOutputStream();
        for (int i = 0; i < 15; i++) { // the agent renews every 200 ms for 3 s: three deadman timeouts
            pipe.write('\n');
            pipe.flush();
            Thread.sleep(200); // the renewal period, not a wait for a condition
            assertTrue(session.stream().allMatch(TreeStopper::isAlive), "stopped although renewed");
        }

        // no renewal, but the pipe stays open: the agent is frozen, not dead
        await().atMost(Duration.ofSeconds(4)).until(() -> session.stream().noneMatch(TreeStopper::isAlive));
        pipe.close();
    }

    private Process start(String command, Duration stopTimeout) throws Exception {
        return start(command, stopTimeout, Duration.ofSeconds(60));
    }

    private Process start(String command, Duration stopTimeout, Duration deadman) throws Exception {
        Process p = new ProcessBuilder(Watchdog.command(command, stopTimeout, dir.resolve("child.pid"), deadman))
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(new File("/dev/null"))
                .start();
        started.add(p);
        return p;
    }

    private static List<String> commands(Process root) {
        return ProcessTable.snapshot().tree(root.pid()).stream()
                .map(ProcessInfo::cmdline)
                .toList();
    }
}
