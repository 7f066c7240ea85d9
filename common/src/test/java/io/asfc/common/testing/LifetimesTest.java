package io.asfc.common.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.testing.Lifetimes.Overlap;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stand-ins' lifetime lock, the exact witness of S1: an injected overlap of 20 ms is seen and measured. */
class LifetimesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long INJECTED_MILLIS = 20;

    @TempDir
    Path dir;

    private StandIn standIn;
    private Lifetimes lifetimes;
    private final List<ProcessHandle> started = new ArrayList<>();

    @BeforeEach
    void setUp() {
        standIn = new StandIn(dir);
        lifetimes = standIn.lifetimes();
    }

    @AfterEach
    void tearDown() throws Exception {
        lifetimes.close();
        for (ProcessHandle p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        standIn.killAll();
    }

    @Test
    void schedulersOneAfterTheOtherNeverOverlap() throws Exception {
        ProcessHandle a = start("a");
        awaitStarts(1);
        kill(a);
        start("b");
        awaitStarts(2);

        assertEquals(List.of(), lifetimes.overlaps(), lifetimes.describe());
        assertEquals(0, lifetimes.overlapMillis());
    }

    @Test
    void aSecondSchedulerAliveFor20msIsAnOverlapOfAtLeast20ms() throws Exception {
        start("a");
        awaitStarts(1);
        ProcessHandle second = start("a"); // by hand, on the same node: two processes, so two schedulers
        awaitStarts(2);
        Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
        kill(second);

        awaitOverlapsEnded();
        List<Overlap> overlaps = lifetimes.overlaps();
        assertEquals(1, overlaps.size(), lifetimes.describe());
        assertEquals(second.pid(), overlaps.get(0).pid(), lifetimes.describe());
        System.out.println("LifetimesTest: injected " + INJECTED_MILLIS + " ms, measured: " + lifetimes.describe());
        assertTrue(lifetimes.overlapMillis() >= INJECTED_MILLIS, lifetimes.describe());
    }

    @Test
    void anOverlapEndsWhenTheFirstSchedulerDies() throws Exception {
        ProcessHandle first = start("a");
        awaitStarts(1);
        start("b");
        awaitStarts(2);
        Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
        kill(first);

        awaitOverlapsEnded();
        assertEquals(1, lifetimes.overlaps().size(), lifetimes.describe());
        assertEquals(
                "the other scheduler processes ended",
                lifetimes.overlaps().get(0).end(),
                lifetimes.describe());
        System.out.println("LifetimesTest: injected " + INJECTED_MILLIS + " ms, measured: " + lifetimes.describe());
        assertTrue(lifetimes.overlapMillis() >= INJECTED_MILLIS, lifetimes.describe());
    }

    @Test
    void theHelpersNeverHoldTheLock() throws Exception {
        ProcessHandle a = start("a");
        awaitStarts(1);
        await().atMost(WAIT).until(() -> a.descendants().count() >= 3); // manager, processor, worker
        kill(a); // SIGKILL: the helpers live on, orphaned
        start("b");
        awaitStarts(2);

        assertEquals(List.of(), lifetimes.overlaps(), lifetimes.describe());
    }

    @Test
    void aJournalLineItCannotReadIsAnError() throws Exception {
        java.nio.file.Files.writeString(standIn.lifetimeLock().resolveSibling("lifetime.lock.journal"), "held 1 a\n");
        assertThrows(java.io.IOException.class, lifetimes::poll);
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

    private void kill(ProcessHandle p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.onExit().join();
    }

    private void awaitOverlapsEnded() {
        await().atMost(WAIT).until(() -> {
            lifetimes.poll();
            return lifetimes.overlaps().stream().allMatch(o -> o.toNanos() >= 0);
        });
    }

    private void awaitStarts(int n) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> {
            lifetimes.poll();
            return lifetimes.starts() >= n;
        });
    }
}
