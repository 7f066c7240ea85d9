package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The child-mode watchdog's side of a hand-over ({@link DeadmanHandOver}), driven as the two agents drive it: the
 * leaving agent asks and then its end of the pipe closes (its JVM exits); the next agent adopts it through the fifo.
 * The deadline never moves: only renewals from an adopting agent keep the scheduler past it. (Command mode's deadman
 * runs the same protocol; {@code HandOverTest} drives both with real agents.)
 */
class DeadmanHandOverTest {
    private static final Duration DEADMAN = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process p : started) {
            ProcessTable.snapshot().matching(i -> i.sid() == p.pid()).forEach(i -> ProcessHandle.of(i.pid())
                    .ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void aHandedOverSchedulerOutlivesTheLeavingAgentAndAnswersToTheNextOne() throws Exception {
        Process watchdog = start("sleep 331 & wait");
        Set<ProcessInfo> session = running(watchdog);
        Path fifo = dir.resolve("a.fifo");

        OptionalLong deadman = DeadmanHandOver.request(new Lifeline(watchdog.getOutputStream()), fifo);
        assertTrue(deadman.isPresent(), "the watchdog acknowledged");
        assertTrue(
                session.stream().anyMatch(p -> p.pid() == deadman.getAsLong() && Watchdog.isShell(p)),
                "the watcher acknowledged with its pid");
        watchdog.getOutputStream().close(); // the leaving agent's JVM exits
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> allAlive(session));

        Lifeline next = DeadmanHandOver.attach(fifo, deadman.getAsLong()).orElseThrow();
        for (int i = 0; i < 20; i++) { // 4 s of renewals: twice the deadline
            next.renew();
            Thread.sleep(200); // the renewal period, not a wait for a condition
            assertTrue(allAlive(session), "stopped although the next agent renewed it");
        }
        await("the fifo is gone once adopted").atMost(Duration.ofSeconds(2)).until(() -> !Files.exists(fifo));

        next.close(); // the next agent dies: its end closes
        await().atMost(Duration.ofSeconds(5)).until(() -> noneAlive(session));
    }

    @Test
    void withoutANextAgentTheDeadmanStopsTheSchedulerAtItsDeadline() throws Exception {
        Process watchdog = start("sleep 332 & wait");
        Set<ProcessInfo> session = running(watchdog);
        Path fifo = dir.resolve("a.fifo");
        OptionalLong deadman = DeadmanHandOver.request(new Lifeline(watchdog.getOutputStream()), fifo);
        assertTrue(deadman.isPresent());

        watchdog.getOutputStream().close();

        await().atMost(DEADMAN.plusSeconds(4)).until(() -> noneAlive(session));
        assertFalse(Files.exists(fifo), "the fifo is removed");
        assertTrue(DeadmanHandOver.attach(fifo, deadman.getAsLong()).isEmpty(), "a later agent adopts nothing");
    }

    @Test
    void aCancelledHandOverStopsTheSchedulerAsSoonAsTheAgentIsGone() throws Exception {
        Process watchdog = start("sleep 333 & wait");
        Set<ProcessInfo> session = running(watchdog);
        Lifeline line = new Lifeline(watchdog.getOutputStream());
        assertTrue(DeadmanHandOver.request(line, dir.resolve("a.fifo")).isPresent());

        line.send("unhand");
        line.close();

        await().atMost(Duration.ofSeconds(1)).until(() -> noneAlive(session)); // not the 2 s deadline
    }

    private Set<ProcessInfo> running(Process watchdog) {
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessTable.snapshot().tree(watchdog.pid()).stream()
                .anyMatch(p -> p.cmdline().startsWith("sleep 33")));
        Set<ProcessInfo> session = Set.copyOf(ProcessTable.snapshot().matching(p -> p.sid() == watchdog.pid()));
        return session;
    }

    private static boolean allAlive(Set<ProcessInfo> session) {
        return session.stream().allMatch(TreeStopper::isAlive);
    }

    private static boolean noneAlive(Set<ProcessInfo> session) {
        return session.stream().noneMatch(TreeStopper::isAlive);
    }

    private Process start(String command) throws Exception {
        Process p = new ProcessBuilder(Watchdog.command(
                        command, Duration.ofMillis(500), dir.resolve("child.pid"), DEADMAN, Optional.empty()))
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        started.add(p);
        return p;
    }
}
