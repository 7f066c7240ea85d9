package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.it.ClusterObserver.ClusterView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/UPGRADE.md, checked: a 3-agent cluster of the previous released format (schema 1, built from commit {@value
 * PreviousRelease#DEFAULT_COMMIT}) is upgraded to this build one agent at a time, in the documented order, while a
 * stand-in scheduler runs. The STANDBY agents first: the scheduler keeps its pid. Then the holder (here also the
 * ACTIVE agent) is drained: the one planned move of the upgrade, made by an old controller to a new agent; then it is
 * upgraded (leadership goes to a new agent, the scheduler stays) and uncordoned. From a release that hands over, the
 * same cluster is upgraded with {@code restart --hand-over} and the scheduler never restarts. A sampler of the host's
 * processes witnesses that two schedulers never run and counts every scheduler process.
 */
class RollingUpgradeIT {

    private static final List<String> NODES = List.of("a", "b", "c");
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    /**
     * A hand-over must be over within the deadman's timeout (2/3 x session-timeout + self-fence-after): 10.7 s here,
     * about the shipped 9.7 s, for the new agent's JVM to start and connect on a loaded host.
     */
    private static final Duration HAND_OVER_SESSION = Duration.ofSeconds(10);

    private static final String HAND_OVER_TIMINGS = "asfc.zookeeper.self-fence-after = 4s\n";
    /** For conditions that are not timed: generous, as JVMs start slowly on a loaded host. */
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration SAMPLE_EVERY = Duration.ofMillis(50);

    @TempDir
    Path tempDir;

    private String marker;
    private StandaloneZooKeeper zooKeeper;
    private ClusterObserver observer;
    private ScheduledExecutorService sampler;
    private final List<LocalAgent> everyAgent = new ArrayList<>();
    private final Map<String, LocalAgent> agents = new LinkedHashMap<>();

    /** Every scheduler pid the sampler saw, and the samples in which two ran at once (S1 broken). */
    private final Set<Long> schedulers = new TreeSet<>();

    private final List<String> overlaps = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        List<String> problems = new ArrayList<>();
        try {
            for (LocalAgent agent : everyAgent) {
                agent.stopForCleanup(problems);
            }
        } finally {
            if (sampler != null) {
                sampler.shutdownNow();
            }
            if (marker != null) {
                ProcessHandle.allProcesses()
                        .filter(p -> p.info().commandLine().orElse("").contains(marker))
                        .forEach(ProcessHandle::destroyForcibly);
            }
            if (observer != null) {
                observer.close();
            }
            if (zooKeeper != null) {
                zooKeeper.close();
            }
        }
        assertTrue(problems.isEmpty(), () -> "cleanup: " + String.join("\n", problems));
    }

    @Test
    void aClusterOfThePreviousFormatIsUpgradedOneAgentAtATimeWithOnePlannedMove() throws Exception {
        // the cluster of the previous release: a leads and runs the scheduler, b and c stand by
        Distribution current = clusterOf(PreviousRelease.tarball(), SESSION_TIMEOUT, "");
        ClusterView before = awaitView(
                "three old agents, a ACTIVE and running the scheduler",
                v -> v.agents().size() == 3 && v.soleActive().equals(Optional.of("a")));
        for (JsonNode record : before.agents().values()) {
            assertFalse(record.has("schemaVersion"), () -> "not the previous format: " + record);
        }
        long first = schedulerPid(before, "a");

        // 1. the STANDBY agents, one at a time: the scheduler keeps its pid
        for (String node : List.of("b", "c")) {
            upgrade(current, node);
            ClusterView after = awaitView(
                    node + " upgraded, a still ACTIVE and running the same scheduler",
                    v -> upgraded(v, node)
                            && v.soleActive().equals(Optional.of("a"))
                            && running(v).equals(List.of("a")));
            assertEquals(first, schedulerPid(after, "a"), () -> "the scheduler restarted while " + node + " upgraded");
        }

        // 2. the holder (the old ACTIVE controller) is drained onto an upgraded node: the one planned move
        CommandResult drain = agents.get("b").cli("drain", "a", "--timeout", "120s");
        assertEquals(0, drain.exitCode(), () -> drain.describe() + logTails());
        ClusterView moved = awaitView(
                "the scheduler runs on one upgraded node",
                v -> running(v).size() == 1 && !running(v).contains("a"));
        String holder = running(moved).get(0);
        long second = schedulerPid(moved, holder);

        // 3. the old ACTIVE agent is upgraded: leadership goes to an upgraded agent, the scheduler stays
        upgrade(current, "a");
        ClusterView last = awaitView(
                "all three upgraded, one ACTIVE, the scheduler where it was",
                v -> NODES.stream().allMatch(n -> upgraded(v, n))
                        && v.soleActive().isPresent()
                        && running(v).equals(List.of(holder)));
        assertEquals(second, schedulerPid(last, holder), "the scheduler restarted while a upgraded");
        CommandResult uncordon = agents.get("a").cli("uncordon", "a");
        assertEquals(0, uncordon.exitCode(), () -> uncordon.describe() + logTails());

        // what the sampler saw: never two schedulers; the first one and the drain's, no other
        synchronized (schedulers) {
            assertTrue(overlaps.isEmpty(), () -> "two schedulers ran at once: " + overlaps);
            assertEquals(Set.of(first, second), schedulers, () -> "scheduler pids seen: " + schedulers + logTails());
        }
        System.out.printf(
                "[upgrade] upgraded a, b, c from %s: scheduler pids %s (one planned move, by drain)%n",
                System.getProperty(PreviousRelease.COMMIT_PROPERTY, PreviousRelease.DEFAULT_COMMIT), schedulers);
    }

    /**
     * From a release that hands over ({@value PreviousRelease#HAND_OVER_COMMIT}): every agent, the holder's (also
     * ACTIVE) last, is replaced with the new installation's {@code bin/asfc-agent restart --hand-over}, and the
     * scheduler never restarts: one pid from start to end, never two schedulers.
     */
    @Test
    void fromAReleaseThatHandsOverNoAgentsUpgradeRestartsTheScheduler() throws Exception {
        Distribution current = clusterOf(
                PreviousRelease.tarball(PreviousRelease.HAND_OVER_COMMIT), HAND_OVER_SESSION, HAND_OVER_TIMINGS);
        ClusterView before = awaitView("three agents, a ACTIVE", v -> v.agents().size() == 3);
        long first = schedulerPid(before, "a");

        for (String node : List.of("b", "c", "a")) {
            long oldPid = agents.get(node).pid();
            LocalAgent next = LocalAgent.create(
                    current,
                    node,
                    NODES,
                    zooKeeper.connectString(),
                    HAND_OVER_SESSION,
                    tempDir.resolve("agents").resolve(node),
                    schedulerConfig() + HAND_OVER_TIMINGS);
            everyAgent.add(next);
            agents.put(node, next);
            CommandResult restart = next.run(LocalAgent.DAEMON_COMMAND_TIMEOUT, "restart", "--hand-over");
            assertEquals(0, restart.exitCode(), () -> restart.describe() + next.logTails());
            long pid = next.pid();
            assertTrue(pid != oldPid, "a new agent runs");
            ClusterView after = awaitView(
                    node + " replaced, the scheduler still on a",
                    v -> v.pidOf(node).equals(Optional.of(pid))
                            && v.soleActive().isPresent()
                            && running(v).equals(List.of("a")));
            assertEquals(first, schedulerPid(after, "a"), () -> "the scheduler restarted while " + node + " upgraded");
        }
        assertTrue(
                agents.get("a").logContains("took over the ZooKeeper session and the running scheduler"),
                () -> "a's new agent adopted the scheduler" + logTails());

        synchronized (schedulers) {
            assertTrue(overlaps.isEmpty(), () -> "two schedulers ran at once: " + overlaps);
            assertEquals(Set.of(first), schedulers, () -> "scheduler pids seen: " + schedulers + logTails());
        }
        System.out.printf(
                "[upgrade] upgraded a, b, c from %s with restart --hand-over: scheduler pids %s (no restart)%n",
                PreviousRelease.HAND_OVER_COMMIT, schedulers);
    }

    /**
     * A cluster of the release in {@code tarball}, with ZooKeeper (of this build), the observer and the sampler: a
     * leads and runs the scheduler, b and c stand by. Returns this build's distribution, to upgrade to.
     */
    private Distribution clusterOf(Path tarball, Duration session, String extra) throws Exception {
        Distribution old = Distribution.unpack(Files.createDirectories(tempDir.resolve("old")), tarball);
        Distribution current = Distribution.unpack(Files.createDirectories(tempDir.resolve("new")));
        marker = tempDir.resolve("scheduler").toString();
        zooKeeper = StandaloneZooKeeper.start(current, Files.createDirectories(tempDir.resolve("zookeeper")));
        observer = ClusterObserver.connect(zooKeeper.connectString());
        startSampler();
        for (String node : NODES) {
            start(old, node, session, extra);
            if (node.equals("a")) {
                awaitView(
                        "a leads and runs the scheduler",
                        v -> v.soleActive().equals(Optional.of("a"))
                                && running(v).equals(List.of("a")));
            }
        }
        return current;
    }

    private void start(Distribution dist, String node) throws Exception {
        start(dist, node, SESSION_TIMEOUT, "");
    }

    private void start(Distribution dist, String node, Duration session, String extra) throws Exception {
        LocalAgent agent = LocalAgent.create(
                dist,
                node,
                NODES,
                zooKeeper.connectString(),
                session,
                tempDir.resolve("agents").resolve(node),
                schedulerConfig() + extra);
        everyAgent.add(agent);
        agents.put(node, agent);
        CommandResult start = agent.start();
        assertEquals(0, start.exitCode(), () -> start.describe() + agent.logTails());
    }

    /** Stops {@code node}'s agent and starts {@code dist}'s in its place, with the same conf, pid and log dirs. */
    private void upgrade(Distribution dist, String node) throws Exception {
        LocalAgent old = agents.get(node);
        CommandResult stop = old.stop();
        assertEquals(0, stop.exitCode(), () -> stop.describe() + old.logTails());
        start(dist, node);
        long pid = agents.get(node).pid();
        awaitView(node + " registered again", v -> v.pidOf(node).equals(Optional.of(pid)));
    }

    private String schedulerConfig() {
        return "asfc.scheduler.start-command = \"\"\"exec python3 -c 'import time; time.sleep(600)' " + marker
                + "\"\"\"\n";
    }

    private static boolean upgraded(ClusterView v, String node) {
        JsonNode record = v.agents().get(node);
        return record != null && "2.0".equals(record.path("schemaVersion").asText());
    }

    /** The nodes whose agent reports its scheduler running. */
    private static List<String> running(ClusterView v) {
        return v.agents().entrySet().stream()
                .filter(e -> e.getValue().path("scheduler").path("running").asBoolean())
                .map(Map.Entry::getKey)
                .toList();
    }

    private static long schedulerPid(ClusterView v, String node) {
        return v.agents().get(node).path("scheduler").path("pid").asLong();
    }

    private ClusterView awaitView(String what, Predicate<ClusterView> test) {
        return await(what).atMost(SETTLE).pollInterval(POLL).ignoreExceptions().until(() -> observer.read(), test);
    }

    /** Samples the scheduler processes (the python3 carrying the marker; not the shells around it). */
    private void startSampler() {
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rolling-upgrade-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(
                () -> {
                    List<Long> pids = ProcessHandle.allProcesses()
                            .filter(p -> p.info().command().orElse("").contains("python"))
                            .filter(p -> p.info().commandLine().orElse("").contains(marker))
                            .map(ProcessHandle::pid)
                            .toList();
                    synchronized (schedulers) {
                        schedulers.addAll(pids);
                        if (pids.size() > 1) {
                            overlaps.add(pids.toString());
                        }
                    }
                },
                0,
                SAMPLE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private String logTails() {
        StringBuilder tails = new StringBuilder("\n");
        agents.values().forEach(a -> tails.append(a.logTails()));
        return tails.toString();
    }
}
