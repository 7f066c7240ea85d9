package io.asfc.agent.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.StandIn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The observer of S1 sees an injected overlap, says 0 only when it watched, and fails loudly when it could not. */
class OverlapObserverTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long INJECTED_MILLIS = 20;

    @TempDir
    Path dir;

    private StandIn standIn;
    private final List<ProcessHandle> started = new ArrayList<>();

    @BeforeEach
    void setUp() {
        standIn = new StandIn(dir);
    }

    @AfterEach
    void tearDown() {
        for (ProcessHandle p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void oneSchedulerAtATimeIsNoOverlap() throws Exception {
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            ProcessHandle a = start("a");
            awaitMains(1);
            kill(a);
            start("b");
            awaitMains(1);

            assertEquals(0, observer.overlapping(), observer.describe());
            assertEquals(0, observer.lifetimeOverlapMillis(), observer.describe());
            assertTrue(observer.samples() > 0, observer.describe());
        }
    }

    @Test
    void aSecondSchedulerStartedFor20msIsSeen() throws Exception {
        start("a");
        awaitMains(1);
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            ProcessHandle second = start("b");
            await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> journalLines() >= 2);
            Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
            kill(second);

            await().atMost(WAIT).until(() -> observer.lifetimeOverlapMillis() >= INJECTED_MILLIS);
            System.out.println("OverlapObserverTest: injected " + INJECTED_MILLIS + " ms: " + observer.describe());
            assertTrue(observer.overlapping() >= 1, observer.describe());
        }
    }

    @Test
    void twoSchedulersOfOneNodeAreTwo() throws Exception {
        start("a");
        awaitMains(1);
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            start("a");
            await().atMost(WAIT)
                    .until(() -> standIn.mainProcesses(ProcessTable.snapshot()).size() == 2);
            await().atMost(WAIT).until(() -> observer.overlappingSamples() > 0);

            assertTrue(observer.overlapping() >= 2, observer.describe()); // by the lock and by the samples
            assertTrue(observer.lifetimeOverlapMillis() > 0, observer.describe());
            assertThrows(StandIn.TwoOnOneNode.class, standIn::mains);
        }
    }

    @Test
    void aScanThatThrowsFailsTheResult() {
        AtomicInteger calls = new AtomicInteger();
        Function<ProcessTable, List<ProcessInfo>> scan = table -> {
            if (calls.incrementAndGet() == 3) {
                throw new IllegalStateException("injected: /proc unreadable");
            }
            return List.of();
        };
        try (OverlapObserver observer =
                new OverlapObserver(scan, List.of(standIn.marker()), standIn.lifetimes(), List.of())) {
            await().atMost(WAIT).until(() -> calls.get() >= 3);

            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("injected: /proc unreadable"), e.getMessage());
        }
    }

    @Test
    void noSampleAtAllFailsTheResult() {
        // the sampling process stops before its first sample, for longer than the observer waits
        try (OverlapObserver observer = new OverlapObserver(
                standIn::mainProcesses,
                List.of(standIn.marker()),
                standIn.lifetimes(),
                List.of("--stall-after", "0", "--stall-ms", "60000"))) {
            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("no sample"), e.getMessage());
        }
    }

    @Test
    void aGapBetweenSamplesOverTheBoundFailsTheResult() {
        // the sampling process stalls once, for 3 x the bound: an overlap could hide meanwhile
        try (OverlapObserver observer = new OverlapObserver(
                standIn::mainProcesses,
                List.of(standIn.marker()),
                standIn.lifetimes(),
                List.of("--stall-after", "3", "--stall-ms", Long.toString(OverlapObserver.MAX_GAP.toMillis() * 3)))) {
            await().atMost(WAIT).until(() -> observer.samples() >= 5);

            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("without a sample"), e.getMessage());
        }
    }

    @Test
    void aHealthySamplerStaysWithinTheBound() {
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            await().atMost(WAIT).until(() -> observer.samples() >= 50);

            assertEquals(0, observer.overlapping(), observer.describe()); // verify: no gap over MAX_GAP
            System.out.println("OverlapObserverTest: " + observer.describe());
        }
    }

    private long journalLines() throws java.io.IOException {
        Path journal = standIn.lifetimeLock().resolveSibling("lifetime.lock.journal");
        return java.nio.file.Files.exists(journal)
                ? java.nio.file.Files.readAllLines(journal).size()
                : 0;
    }

    private ProcessHandle start(String node) throws Exception {
        Process p = new ProcessBuilder(List.of(standIn.byHand(node).split(" ")))
                .redirectErrorStream(true)
                .redirectOutput(
                        dir.resolve(node + "-" + started.size() + ".log").toFile())
                .start();
        started.add(p.toHandle());
        return p.toHandle();
    }

    private static void kill(ProcessHandle p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.onExit().join();
    }

    private void awaitMains(int n) {
        await().atMost(WAIT)
                .until(() -> standIn.mainProcesses(ProcessTable.snapshot()).size() == n);
    }
}
