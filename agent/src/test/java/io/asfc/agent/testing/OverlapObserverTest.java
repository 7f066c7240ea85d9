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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
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
        Supplier<List<ProcessInfo>> scan = () -> {
            if (calls.incrementAndGet() == 3) {
                throw new IllegalStateException("injected: /proc unreadable");
            }
            return List.of();
        };
        try (OverlapObserver observer = new OverlapObserver(scan, standIn.lifetimes())) {
            await().atMost(WAIT).until(() -> calls.get() >= 3);

            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("injected: /proc unreadable"), e.getMessage());
        }
    }

    @Test
    void noSampleAtAllFailsTheResult() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        Supplier<List<ProcessInfo>> stuck = () -> {
            entered.countDown();
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        };
        try (OverlapObserver observer = new OverlapObserver(stuck, standIn.lifetimes())) {
            assertTrue(entered.await(30, TimeUnit.SECONDS));

            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("no sample"), e.getMessage());
        }
    }

    @Test
    void aGapBetweenSamplesOverTheBoundFailsTheResult() {
        AtomicInteger calls = new AtomicInteger();
        Supplier<List<ProcessInfo>> slow = () -> {
            if (calls.incrementAndGet() == 2) {
                sleep(OverlapObserver.MAX_GAP.multipliedBy(3)); // a stalled scan: an overlap could hide meanwhile
            }
            return List.of();
        };
        try (OverlapObserver observer = new OverlapObserver(slow, standIn.lifetimes())) {
            await().atMost(WAIT).until(() -> calls.get() >= 4);

            AssertionError e = assertThrows(AssertionError.class, observer::overlapping);
            assertTrue(e.getMessage().contains("without a sample"), e.getMessage());
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
