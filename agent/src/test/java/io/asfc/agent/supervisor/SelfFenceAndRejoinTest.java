package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Assignment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The agent's own side of S1 when it loses ZooKeeper (review of c86bae1, issue 16):
 *
 * <ul>
 *   <li>finding 6: the self-fence (S4) must never wait for a start-command, nor for a ZooKeeper event write that
 *       hangs because ZooKeeper is gone;
 *   <li>finding 8: after its session expired and a new one began, the supervisor must start nothing on the
 *       assignment it read before its own {@code agents/<node>} exists again in the new session: until then the
 *       leader takes it for gone and may hand the scheduler to another node.
 * </ul>
 *
 * Real agents, an in-process ZooKeeper reached through {@link ZkProxy}, and stand-in schedulers.
 */
class SelfFenceAndRejoinTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** A silent partition: whatever a host sends or should receive arrives only after this. */
    private static final Duration SILENT = Duration.ofSeconds(120);

    /** TestAgents: self-fence-after = session-timeout / 2. */
    private static final Duration SELF_FENCE_AFTER = TestAgents.SESSION.dividedBy(2);
    /** The TERM-to-KILL window of the self-fence's stop: scheduler.self-fence-stop-timeout. */
    private static final Duration STOP = Duration.ofSeconds(3);
    /** Scheduling, a process table scan and the stand-in's own exit. */
    private static final Duration SLACK = Duration.ofMillis(1500);
    /**
     * The product's default connection-timeout. While ZooKeeper refuses connections, one Curator call (an event
     * write) then blocks for about 9 s here (the review estimates up to 23 s).
     */
    private static final String CONNECTION_TIMEOUT = "\nasfc.zookeeper.connection-timeout = 5s\n";
    /** The start-command takes this long before the scheduler is there. */
    private static final int SLOW_START = 4;

    /** takeover-grace ends this long after the heal: a has rejoined well before b may move the scheduler. */
    private static final int GRACE_PAST_HEAL = 3;
    /** a's start-command returns this long after it started the scheduler. */
    private static final int REPORT_AFTER = 2;
    /**
     * a's own timings in the rejoin test: its regular heartbeat comes after the end of the test (a change of its
     * scheduler's state is still published at once), and a dead scheduler is restarted 1.5 s later.
     */
    private static final String A_REJOIN =
            "\nasfc.controller.heartbeat-interval = 60s\nasfc.scheduler.restart-sleep = 1500ms\n";

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final List<ZkProxy> proxies = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (ZkProxy proxy : proxies) {
            proxy.close(); // first: an agent cut off then closes without waiting on ZooKeeper
        }
        agents.close();
        standIn.killAll();
        server.close();
    }

    /**
     * Review finding 6. Command mode: a's start-command takes {@value #SLOW_START} s before the scheduler is there.
     * While it runs, a is cut off from ZooKeeper (connections refused: Curator retries, so every ZooKeeper call
     * blocks for seconds). The self-fence fires {@code self-fence-after} later and must stop the scheduler as soon
     * as the start has produced it; today it waits on the supervisor's lock, held across the start-command and the
     * "scheduler-started" event write that follows it, and the scheduler lives on through the event write's retries.
     */
    @Test
    void selfFenceNotDelayedByStartOrEventWrites() throws Exception {
        ZkProxy a = proxy();
        Path pidFile = dir.resolve("a.pid");
        String start = "touch " + starting("a") + "; sleep " + SLOW_START + "; " + standIn.daemon("a", pidFile, "");
        agents.start(
                "a",
                a.connectString(),
                StandIn.FAST_TIMINGS + CONNECTION_TIMEOUT + "asfc.nodes = [a]\n"
                        + "asfc.scheduler.self-fence-stop-timeout = " + STOP.toMillis() + "ms\n"
                        + standIn.commandMode("a", pidFile, start));
        await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> Files.exists(starting("a")));
        long began = System.nanoTime();

        a.cut();
        long cut = System.nanoTime();
        assertTrue(mainsOf("a").isEmpty(), "the cut must land while a's start-command still runs");
        Duration remaining = Duration.ofSeconds(SLOW_START).minusNanos(cut - began);
        Duration bound = remaining.plus(SELF_FENCE_AFTER).plus(STOP).plus(SLACK);

        long appeared = 0;
        while (System.nanoTime() - cut < bound.toNanos()) { // sampling, not waiting for a condition
            if (appeared == 0 && !mainsOf("a").isEmpty()) {
                appeared = System.nanoTime();
            }
            Thread.sleep(20);
        }
        // the bound passed: now the scheduler must be gone (or never have been there)
        List<ProcessInfo> left = mainsOf("a");
        if (!left.isEmpty()) {
            long pid = left.get(0).pid();
            long appearedMs = appeared == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(appeared - cut);
            String gone;
            try {
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> mainsOf("a").stream().noneMatch(p -> p.pid() == pid));
                gone = "it was gone " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut) + "ms after the cut";
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                gone = "it still ran 30 s later";
            }
            fail("a's scheduler (pid " + pid + ", there " + appearedMs + "ms after the cut) still ran "
                    + bound.toMillis() + "ms after the cut (remaining start " + remaining.toMillis()
                    + "ms + self-fence-after " + SELF_FENCE_AFTER.toMillis() + "ms + self-fence-stop-timeout "
                    + STOP.toMillis()
                    + "ms + slack " + SLACK.toMillis() + "ms); " + gone);
        }
    }

    /**
     * Review finding 8. b leads, a holds the scheduler and is partitioned until its session has expired; {@code heal}
     * seconds after the expiry the partition heals. The assignment still names a (b waits takeover-grace before it
     * moves it), so a's supervisor, on its new session, must start nothing before {@code agents/a} exists again in
     * that session: until then b takes a for gone, and may assign b while a starts. And no two schedulers, ever.
     *
     * <p>{@code silent}: a's packets are held (a silent drop); {@code refused}: its connections are refused. {@code
     * running}: a's scheduler runs when the partition begins, and a self-fences; {@code died}: it died just before,
     * and a's restart of it is pending (restart-sleep).
     *
     * <p>a's regular heartbeat is pushed past the end of the test (a change of its scheduler's state is still
     * published at once): the order of a's start and of its {@code agents/a} must be the supervisor's own doing. With
     * {@code running}, the heartbeat that published the self-fence is still retrying when the partition heals, and
     * today it re-creates {@code agents/a} a few ms before or after the supervisor starts (a race, lost now and then);
     * with {@code died}, nothing of a is in flight, and today a starts first, every time.
     */
    @ParameterizedTest(name = "{0} partition, heal {1}s after the expiry, scheduler {2}")
    @CsvSource({"silent, 1, running", "silent, 2, running", "silent, 3, running", "silent, 2, died"})
    void rejoinAfterExpiryStartsNothing(String partition, int heal, String before) throws Exception {
        String nodes = "asfc.nodes = [a, b]\n";
        String grace = "asfc.controller.takeover-grace = " + (heal + GRACE_PAST_HEAL) + "s\n";
        agents.pause(true); // so that b leads and a is assigned
        agents.start("b", server.getConnectString(), StandIn.FAST_TIMINGS + grace + nodes + standIn.config("b", ""));
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("b")));
        ZkProxy a = proxy();
        Path pidFile = dir.resolve("a.pid");
        // like a start wrapper that waits a moment to see the scheduler up: it runs from before the scheduler starts
        // until REPORT_AFTER s later, and today a publishes the start only when it returns
        String start = standIn.daemon("a", pidFile, "").replaceFirst("^exec ", "") + "; sleep " + REPORT_AFTER;
        agents.start(
                "a",
                a.connectString(),
                StandIn.FAST_TIMINGS + grace + nodes + A_REJOIN + standIn.commandMode("a", pidFile, start));
        await().atMost(WAIT).until(() -> agents.candidates() == 2);
        agents.pause(false);
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "a"));
        if (before.equals("died")) {
            standIn.tell("a", "crash");
            await().atMost(WAIT).until(() -> agents.agentRecord("a")
                    .map(r -> !r.scheduler().running() && r.scheduler().failures() == 1)
                    .orElse(false));
            standIn.tell("a", "ok"); // for the scheduler a starts next
        }

        try (OverlapObserver observer = new OverlapObserver(standIn);
                Trace trace = new Trace()) {
            if (partition.equals("silent")) {
                a.latency(SILENT);
            } else {
                a.cut();
            }
            trace.note("a partitioned (" + partition + ")");
            await().atMost(WAIT)
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> agents.observer()
                                    .checkExists()
                                    .forPath(agents.paths().agent("a"))
                            == null);
            trace.note("a's session expired (agents/a gone)");
            Thread.sleep(heal * 1000L); // the fault's timing, not a wait for a condition
            a.latency(Duration.ZERO);
            a.cut(); // also drops the connections held in the latency, so that a reconnects at once
            await().atMost(WAIT)
                    .ignoreExceptions()
                    .until(
                            () -> { // the old listener may hold the port a moment
                                a.restore();
                                return true;
                            });
            long healed = System.nanoTime();
            trace.note("healed");
            trace.startsAfter(healed);

            await().atMost(Duration.ofSeconds(GRACE_PAST_HEAL + 20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> System.nanoTime() - healed
                                    > Duration.ofSeconds(GRACE_PAST_HEAL + 5).toNanos()
                            && (agents.runsOnlyOn(standIn, "a") || agents.runsOnlyOn(standIn, "b")));
            String timeline = trace.describe();
            assertEquals(
                    List.of(), trace.badStarts(), "a started a scheduler before it was visible again:\n" + timeline);
            assertEquals(0, observer.overlapping(), observer.describe() + "\n" + timeline);
        }
    }

    /** Only a's own supervisor can stop it: nothing else runs. */
    private List<ProcessInfo> mainsOf(String node) {
        return standIn.mainProcesses(ProcessTable.snapshot()).stream()
                .filter(p -> StandIn.node(p).equals(node))
                .toList();
    }

    /**
     * Samples every 10 ms what runs, whether {@code agents/a} exists and in which session, and what is assigned, and
     * keeps the changes. After {@link #startsAfter}, it also keeps every start of a scheduler by a that happened
     * while a was not assigned, or before its {@code agents/a} was there in a's current session: a process's start
     * time (in clock ticks since boot, as the kernel counts it) is compared with when that znode was first seen.
     */
    private final class Trace implements AutoCloseable {
        private static final long TOLERANCE_TICKS = 2; // the 10 ms sampling period plus one 10 ms tick
        private final long t0 = System.nanoTime();
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final List<String> bad = new CopyOnWriteArrayList<>();
        private final Set<Long> known = ConcurrentHashMap.newKeySet();
        private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        private volatile long after = Long.MAX_VALUE;
        private volatile String last = "";
        /** Uptime ticks when agents/a was first seen in a's current session (-1: not there). */
        private volatile long visibleSince = -1;

        Trace() {
            mainsOf("a").forEach(p -> known.add(p.pid()));
            sampler.scheduleWithFixedDelay(this::sample, 0, 10, TimeUnit.MILLISECONDS);
        }

        void note(String what) {
            lines.add(at() + " " + what);
        }

        void startsAfter(long nanos) {
            after = nanos;
        }

        List<String> badStarts() {
            return List.copyOf(bad);
        }

        String describe() {
            return String.join("\n", lines);
        }

        private String at() {
            return String.format("%+7dms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }

        private void sample() {
            try {
                long ticks = uptimeTicks();
                Stat stat =
                        agents.observer().checkExists().forPath(agents.paths().agent("a"));
                long session = sessionOf("a");
                boolean visible = stat != null && stat.getEphemeralOwner() == session;
                if (!visible) {
                    visibleSince = -1;
                } else if (visibleSince < 0) {
                    visibleSince = ticks;
                }
                String assigned = agents.assignment().map(Assignment::node).orElse("-");
                List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
                String now = "mains "
                        + mains.stream()
                                .map(p -> StandIn.node(p) + "/" + p.pid())
                                .sorted()
                                .toList()
                        + ", agents/a " + (stat == null ? "absent" : "0x" + Long.toHexString(stat.getEphemeralOwner()))
                        + ", a's session 0x" + Long.toHexString(session) + ", assigned " + assigned;
                if (!now.equals(last)) {
                    last = now;
                    lines.add(at() + " " + now);
                }
                for (ProcessInfo p : mains) {
                    if (StandIn.node(p).equals("a") && known.add(p.pid()) && System.nanoTime() > after) {
                        long since = visibleSince;
                        if (!assigned.equals("a") || since < 0 || p.startTicks() < since - TOLERANCE_TICKS) {
                            bad.add(at() + " a's scheduler pid " + p.pid() + " started at uptime "
                                    + p.startTicks() * 10 + "ms, agents/a in a's session "
                                    + (since < 0 ? "not there yet" : "there since uptime " + since * 10 + "ms")
                                    + ", assigned " + assigned);
                        }
                    }
                }
            } catch (Exception e) {
                lines.add(at() + " sample failed: " + e);
            }
        }

        @Override
        public void close() {
            sampler.shutdownNow();
        }
    }

    /** Now, in clock ticks (10 ms) since boot: the clock of a process's start time in /proc. */
    private static long uptimeTicks() throws java.io.IOException {
        String uptime = Files.readString(Path.of("/proc/uptime")).split(" ")[0];
        return Math.round(Double.parseDouble(uptime) * 100);
    }

    private long sessionOf(String node) {
        try {
            return agents.client(node).getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return -1;
        }
    }

    /** Created by {@code node}'s start-command when it begins. */
    private Path starting(String node) {
        return dir.resolve(node + ".starting");
    }

    private ZkProxy proxy() throws Exception {
        ZkProxy proxy = new ZkProxy(server.getPort());
        proxies.add(proxy);
        return proxy;
    }
}
