package io.asfc.common.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.testing.Lifetimes.Overlap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lifetime_exec.py}, the lifetime lock in front of a program that knows nothing of it (a real {@code airflow
 * scheduler}; here {@code sleep} and {@code sh}): the wrapper takes the lock and execs, so only the reader can time
 * the end of an overlap, by the slots of the processes that were alive.
 */
class LifetimeExecTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long INJECTED_MILLIS = 20;
    /** How late the end of an overlap may be seen after the process that ended it was reaped (a loaded 2-core CI). */
    private static final long END_SLACK_MILLIS = 100;

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
    }

    @Test
    void theWrappedProgramIsTheSameProcessAndItsChildrenNeverHoldTheLock() throws Exception {
        ProcessHandle sh = start("a", "sh", "-c", "sleep 60 & wait");
        awaitStarts(1);
        await().atMost(WAIT).until(() -> sh.descendants().count() >= 1);
        assertTrue(journal().startsWith("held " + sh.pid() + " a "), journal());
        String cmdline = Files.readString(Path.of("/proc/" + sh.pid() + "/cmdline"), StandardCharsets.UTF_8);
        assertTrue(cmdline.startsWith("sh\0-c\0"), "the wrapper exec'd the program in its own process: " + cmdline);
        ProcessHandle child = sh.descendants().findFirst().orElseThrow();
        assertEquals(Set.of(sh.pid()), Lifetimes.holders(standIn.lifetimeLock()), "pid " + sh.pid());
        kill(sh); // SIGKILL of the main only: its child lives on, orphaned
        assertTrue(child.isAlive());
        start("b", "sleep", "60");
        awaitStarts(2);

        assertEquals(List.of(), lifetimes.overlaps(), lifetimes.describe());
        assertTrue(journal().contains("\nheld "), journal());
    }

    @Test
    void schedulersOneAfterTheOtherNeverOverlap() throws Exception {
        for (int i = 0; i < 3; i++) {
            ProcessHandle p = start("n" + i, "sleep", "60");
            awaitStarts(i + 1);
            kill(p);
        }
        assertEquals(List.of(), lifetimes.overlaps(), lifetimes.describe());
        assertEquals(0, lifetimes.overlapMillis());
    }

    @Test
    void anOverlapEndsWhenTheFirstSchedulerIsKilled() throws Exception {
        ProcessHandle first = start("a", "sleep", "60");
        awaitStarts(1);
        ProcessHandle second = start("b", "sleep", "60");
        awaitStarts(2);
        assertEquals(-1, lifetimes.overlaps().get(0).toNanos(), lifetimes.describe());
        Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
        long killedAt = System.nanoTime();
        kill(first);
        long reapedAt = System.nanoTime();

        Overlap o = awaitOneEndedOverlap();
        System.out.println("LifetimeExecTest: injected " + INJECTED_MILLIS + " ms, measured: " + lifetimes.describe()
                + "; end " + (o.toNanos() - killedAt) / 1000 + " µs after the kill, reaped after "
                + (reapedAt - killedAt) / 1000 + " µs");
        assertEquals(second.pid(), o.pid(), lifetimes.describe());
        assertEquals("the other scheduler processes ended", o.end(), lifetimes.describe());
        assertTrue(o.toNanos() - killedAt >= 0, "the overlap ended before the kill: " + lifetimes.describe());
        assertTrue(
                o.toNanos() - reapedAt <= END_SLACK_MILLIS * 1_000_000,
                "the overlap's end was seen late: " + lifetimes.describe());
        assertTrue(lifetimes.overlapMillis() >= INJECTED_MILLIS, lifetimes.describe());
    }

    @Test
    void anOverlapEndsWhenTheSecondSchedulerDiesFirst() throws Exception {
        start("a", "sleep", "60");
        awaitStarts(1);
        ProcessHandle second = start("b", "sleep", "60");
        awaitStarts(2);
        Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
        kill(second);

        Overlap o = awaitOneEndedOverlap();
        assertEquals("it ended first", o.end(), lifetimes.describe());
        assertTrue(lifetimes.overlapMillis() >= INJECTED_MILLIS, lifetimes.describe());
    }

    /**
     * The case a lock on byte 0 alone would miss: the first holder dies while a second runs (which never acquires
     * anything after its exec), and a third starts beside the second.
     */
    @Test
    void aThirdSchedulerStartedBesideASecondOneThatOutlivedTheFirstOverlapsToo() throws Exception {
        ProcessHandle first = start("a", "sleep", "60");
        awaitStarts(1);
        ProcessHandle second = start("b", "sleep", "60");
        awaitStarts(2);
        kill(first);
        awaitOverlapsEnded();
        ProcessHandle third = start("c", "sleep", "60");
        awaitStarts(3);
        Thread.sleep(INJECTED_MILLIS); // the length of the injected overlap, not a wait for a condition
        kill(second);

        awaitOverlapsEnded();
        List<Overlap> overlaps = lifetimes.overlaps();
        assertEquals(2, overlaps.size(), lifetimes.describe());
        assertEquals(third.pid(), overlaps.get(1).pid(), lifetimes.describe());
        assertEquals("the other scheduler processes ended", overlaps.get(1).end(), lifetimes.describe());
        assertTrue(overlaps.get(1).toNanos() - overlaps.get(1).fromNanos() >= INJECTED_MILLIS * 1_000_000);
    }

    @Test
    void fiveStartsAtOnceAreOneHolderAndFourOverlaps() throws Exception {
        List<ProcessHandle> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(start("n" + i, "sleep", "60"));
        }
        awaitStarts(5);
        assertEquals(4, lifetimes.overlaps().size(), lifetimes.describe());
        assertEquals(
                all.stream().map(ProcessHandle::pid).collect(java.util.stream.Collectors.toSet()),
                Lifetimes.holders(standIn.lifetimeLock()));
        all.forEach(LifetimeExecTest::kill);
        awaitOverlapsEnded();
        assertEquals(Set.of(), Lifetimes.holders(standIn.lifetimeLock()));
    }

    private ProcessHandle start(String node, String... program) throws Exception {
        Process p = new ProcessBuilder(standIn.wrapped(node, program))
                .redirectErrorStream(true)
                .redirectOutput(
                        dir.resolve(node + "-" + started.size() + ".log").toFile())
                .start();
        started.add(p.toHandle());
        return p.toHandle();
    }

    private String journal() throws Exception {
        return Files.readString(standIn.lifetimeLock().resolveSibling("lifetime.lock.journal"));
    }

    private static void kill(ProcessHandle p) {
        p.destroyForcibly(); // SIGKILL
        p.onExit().join();
    }

    private Overlap awaitOneEndedOverlap() {
        awaitOverlapsEnded();
        List<Overlap> overlaps = lifetimes.overlaps();
        assertEquals(1, overlaps.size(), lifetimes.describe());
        return overlaps.get(0);
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
