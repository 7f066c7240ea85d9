package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.cli.AsfcCli;
import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Garbage in the znodes and a deposed leader's leftovers (review of c86bae1, issue 16). Real agents, an in-process
 * ZooKeeper and stand-in schedulers.
 */
class GarbageAndDepositionTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How long each piece of garbage stays before it is restored or deleted. */
    private static final long GARBAGE_FOR_S = 3;

    private static final Duration GARBAGE_FOR = Duration.ofSeconds(GARBAGE_FOR_S);

    /** a's link to agentless c holds every packet this long (each way). */
    private static final long SLOW_LINK_MS = 500;
    /**
     * a looks at c's scheduler only every 5 s: no look of a's over the slow link is in flight when a queues its
     * stop, so that the stop's own checks run at once (else they wait for that look, and by luck after a's
     * deposition).
     */
    private static final String A_LOOKS_RARELY = "\nasfc.scheduler.check-interval = 5s\n";
    /** How long after a unassigned c (and queued its stop of c) a is deposed. */
    private static final long STOP_UNDER_WAY_MS = 300;
    /** By then a deposed leader's slow stop of c has landed, if it ever does. */
    private static final Duration DEPOSED_STOP_HORIZON = Duration.ofSeconds(15);
    /** On an SSH "host", the start-command waits this long before it becomes the scheduler. */
    private static final int SLOW_REMOTE_START = 3;

    private static final byte[] NOT_JSON = "garbage{ not json".getBytes(StandardCharsets.UTF_8);
    /** Valid JSON, the wrong shape for every asfc record. */
    private static final byte[] WRONG_SHAPE =
            "{\"node\":[\"a\"],\"epoch\":\"soon\",\"since\":false,\"schemaVersion\":\"x\"}"
                    .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final List<ZkProxy> proxies = new ArrayList<>();
    private final List<Sshd> hosts = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (ZkProxy proxy : proxies) {
            proxy.close();
        }
        agents.close();
        standIn.killAll();
        hosts.forEach(Sshd::close);
        server.close();
    }

    /**
     * S5 and the review's "garbage" item: garbage in {@code target} (first text that is not JSON, then JSON of the
     * wrong shape), each for {@value #GARBAGE_FOR_S} s and then restored (or deleted), while a runs the scheduler and b
     * leads. The healthy scheduler is never stopped or restarted, two never run, {@code metadata} still names the
     * ACTIVE controller once the garbage is gone, and the controller still acts afterwards: an operator's {@code
     * failover --to b} completes.
     */
    @ParameterizedTest(name = "garbage in {0}")
    @ValueSource(strings = {"epoch", "active", "scheduler", "control", "nodes/x", "agents/x"})
    void garbageNeverWedgesOrRestarts(String target) throws Exception {
        String config = StandIn.FAST_TIMINGS + "asfc.nodes = [a, b]\n";
        agents.pause(true); // so that b leads and a is assigned
        agents.start("b", server.getConnectString(), config + standIn.config("b", ""));
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("b")));
        agents.start("a", server.getConnectString(), config + standIn.config("a", ""));
        await().atMost(WAIT).until(() -> agents.candidates() == 2);
        agents.pause(false);
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "a"));

        List<String> problems = new ArrayList<>();
        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            for (byte[] garbage : List.of(NOT_JSON, WRONG_SHAPE)) {
                String what =
                        (garbage == NOT_JSON ? "text that is not JSON" : "JSON of the wrong shape") + " in " + target;
                long pid = onlyMain().map(ProcessInfo::pid).orElse(-1L);
                Runnable restore = write(target, garbage);
                String during = watchFor(GARBAGE_FOR, pid);
                if (during != null) {
                    problems.add(what + ": " + during);
                }
                restore.run();
                try {
                    await().atMost(Duration.ofSeconds(5))
                            .pollInterval(Duration.ofMillis(100))
                            .until(() -> agents.soleActive().isPresent()
                                    && metadataActive().equals(agents.soleActive()));
                } catch (ConditionTimeoutException e) {
                    problems.add(what + ": 5 s after it was removed, metadata shows ACTIVE "
                            + metadataActive().orElse("(none)") + ", the active znode and the agents' roles say "
                            + agents.soleActive().map(n -> n).orElse("(no single ACTIVE)"));
                }
                String after = watchFor(Duration.ofSeconds(1), pid);
                if (after != null) {
                    problems.add(what + ", after it was removed: " + after);
                }
                settle(problems, what);
            }

            // the controller still acts: the operator moves the scheduler to b
            ControlWriter.update(agents.observer(), agents.paths(), c -> c.withRequest("b", "to-b", Instant.now()));
            try {
                await().atMost(WAIT)
                        .until(() -> agents.runsOnlyOn(standIn, "b")
                                && agents.control().map(c -> c.answered()).orElse(false));
            } catch (ConditionTimeoutException e) {
                problems.add("after the garbage, a failover to b did not complete within " + WAIT + ": " + state());
            }
            if (observer.overlapping() > 0) {
                problems.add(observer.describe());
            }
        }
        assertEquals(List.of(), problems, "garbage in " + target);
    }

    /**
     * Review finding 10 (and the "a deposed leader's queued operations are dropped"). a leads, agentless c
     * holds the scheduler, and a reaches c over a slow link ({@value #SLOW_LINK_MS} ms a packet). The operator asks
     * for a: a unassigns c and stops c's scheduler over SSH, slowly. {@value #STOP_UNDER_WAY_MS} ms later, long
     * before that stop lands, a's session expires at the server (a runs on, deposed): b leads, finds the move it cannot finish (a is gone) and keeps
     * the scheduler on c, its first node in order. Whatever b then runs on c must survive a's stop when that lands: a
     * leader that is gone must not act. Today nothing proves a's leadership before its stop.
     */
    @Test
    void deposedLeadersQueuedStopDropped() throws Exception {
        Sshd.assumeNamespacesAvailable();
        Sshd c = host("c");
        ZkProxy slow = new ZkProxy(c.port());
        proxies.add(slow);
        String nodes = "asfc.nodes = [c, a, b]\n"; // c first: b, when it leads, keeps the scheduler on c
        agents.start(
                "a",
                server.getConnectString(),
                StandIn.FAST_TIMINGS + nodes + standIn.config("a", "") + A_LOOKS_RARELY + sshConfig(c, port(slow)));
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("a")));
        agents.start(
                "b",
                server.getConnectString(),
                StandIn.FAST_TIMINGS + nodes + standIn.config("b", "") + sshConfig(c, c.port()));
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
        await().atMost(WAIT)
                .until(() -> agents.assignment().map(x -> "c".equals(x.node())).orElse(false)
                        && insideMains(c).size() == 1
                        && standIn.mainProcesses(ProcessTable.snapshot()).size() == 1);

        slow.latency(Duration.ofMillis(SLOW_LINK_MS));
        ControlWriter.update(agents.observer(), agents.paths(), r -> r.withRequest("a", "to-a", Instant.now()));
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> agents.assignment().map(x -> x.node() == null).orElse(false));
        // a now stops c over the slow link: whatever a checks before it sends that stop (its lease, say) it has
        // checked by now; what it sends reaches c only seconds later
        Thread.sleep(STOP_UNDER_WAY_MS); // the fault's timing, not a wait for a condition
        agents.expireSession("a"); // a's session expires at the server: a is deposed, its threads run on
        long deposed = System.nanoTime();
        assertEquals(1, insideMains(c).size(), "a's stop of c must still be on its way when a is deposed");

        // b leads and settles: one scheduler, on c, assigned to c by b
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("b")));
        await().atMost(WAIT)
                .during(Duration.ofSeconds(1))
                .until(() -> agents.assignment().map(x -> "c".equals(x.node())).orElse(false)
                        && insideMains(c).size() == 1
                        && standIn.mainProcesses(ProcessTable.snapshot()).size() == 1);
        ProcessInfo kept = insideMains(c).get(0);
        long settledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deposed);

        // a's stop would land within this; the scheduler b keeps on c must live through it
        long end = deposed + DEPOSED_STOP_HORIZON.toNanos();
        while (System.nanoTime() - end < 0) { // sampling for a set time, not waiting for a condition
            List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
            if (mains.size() != 1 || mains.get(0).pid() != kept.pid()) {
                throw new AssertionError("the scheduler that b kept on c (pid " + kept.pid() + ", settled "
                        + settledMs + "ms after a was deposed) was stopped "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deposed)
                        + "ms after a was deposed: schedulers now " + describe(mains) + ", assignment "
                        + agents.assignment().orElse(null) + "; stopped-events "
                        + events().stream()
                                .filter(e -> e.contains("stop") || e.contains("fenced"))
                                .toList());
            }
            Thread.sleep(20);
        }
    }

    /**
     * Review finding 5. a leads, agentless c holds the scheduler, and c's start-command takes {@value #SLOW_REMOTE_START}
     * s there before the scheduler is up. c's scheduler dies; a restarts it over SSH; while that start is under way
     * on c, the operator asks for a. Today a's stop of c runs while the new scheduler is not there yet, finds nothing,
     * a is assigned and starts at once, and c's scheduler comes up anyway: two schedulers until the next sweep of c.
     */
    @Test
    void operatorFailoverDuringAgentlessRestart() throws Exception {
        Sshd.assumeNamespacesAvailable();
        Sshd c = host("c");
        String config = StandIn.FAST_TIMINGS + "asfc.nodes = [a, b, c]\n" + sshConfig(c, c.port())
                + "asfc.controller.poll-interval = 3s\n";
        for (String node : List.of("a", "b")) {
            agents.start(node, server.getConnectString(), config + slowOverSsh(node));
            if (node.equals("a")) {
                await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("a")));
            }
        }
        await().atMost(WAIT)
                .until(() -> agents.runsOnlyOn(standIn, "a")
                        && agents.agentRecord("b").isPresent());
        ControlWriter.update(agents.observer(), agents.paths(), r -> r.withRequest("c", "to-c", Instant.now()));
        await().atMost(WAIT)
                .until(() -> agents.assignment().map(x -> "c".equals(x.node())).orElse(false)
                        && insideMains(c).size() == 1
                        && standIn.mainProcesses(ProcessTable.snapshot()).size() == 1);
        ProcessInfo first = insideMains(c).get(0);

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            ProcessHandle.of(first.pid()).ifPresent(ProcessHandle::destroyForcibly);
            // a restarts it: the start-command waits on c before it becomes the scheduler
            await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> c.processes().stream()
                    .anyMatch(p -> p.cmdline().startsWith("sleep " + SLOW_REMOTE_START)));
            ControlWriter.update(agents.observer(), agents.paths(), r -> r.withRequest("a", "to-a", Instant.now()));
            Set<Long> inC = ConcurrentHashMap.newKeySet();
            var sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleWithFixedDelay(
                    () -> insideMains(c).forEach(p -> inC.add(p.pid())), 0, 10, TimeUnit.MILLISECONDS);

            boolean settled;
            try {
                // held past the moment c's start-command, if nobody stopped it, becomes a scheduler
                await().atMost(WAIT)
                        .during(Duration.ofSeconds(SLOW_REMOTE_START + 2))
                        .until(() -> agents.runsOnlyOn(standIn, "a")
                                && insideMains(c).isEmpty());
                settled = true;
            } catch (ConditionTimeoutException e) {
                settled = false;
            }
            sampler.shutdownNow();
            assertEquals(
                    0,
                    observer.overlapping(),
                    observer.describe() + "; schedulers inside c after the request (pids): " + inC
                            + " (the stand-in takes its name from the leader's config)");
            assertEquals(true, settled, "did not settle on a: " + state() + ", inside c " + insideMains(c));
        }
    }

    /**
     * Writes {@code garbage} into {@code target} as an operator with zkCli could; returns what puts it back: the
     * original data, unless something else has rewritten the znode meanwhile (then that stays), or deletes it.
     */
    private Runnable write(String target, byte[] garbage) throws Exception {
        CuratorFramework zk = agents.observer();
        String path = agents.paths().cluster() + "/" + target;
        if (target.equals("nodes/x") || target.equals("agents/x")) {
            zk.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(target.equals("agents/x") ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT)
                    .forPath(path, garbage);
            return () -> {
                try {
                    zk.delete().forPath(path);
                } catch (KeeperException.NoNodeException e) {
                    // someone removed it already
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
        }
        Stat stat = new Stat();
        byte[] original = zk.getData().storingStatIn(stat).forPath(path);
        Stat written = zk.setData().withVersion(stat.getVersion()).forPath(path, garbage);
        return () -> {
            try {
                zk.setData().withVersion(written.getVersion()).forPath(path, original);
            } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
                // rewritten or removed by the agents meanwhile: their repair stays
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /**
     * Samples for {@code time} that the scheduler with {@code pid} runs, alone; returns what went wrong first, or
     * null.
     */
    private String watchFor(Duration time, long pid) throws Exception {
        long end = System.nanoTime() + time.toNanos();
        while (System.nanoTime() - end < 0) { // sampling for a set time, not waiting for a condition
            List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
            if (mains.size() != 1 || mains.get(0).pid() != pid) {
                return "the scheduler (pid " + pid + ") was stopped or restarted: schedulers now " + describe(mains)
                        + ", assignment " + agents.assignment().orElse(null);
            }
            Thread.sleep(50);
        }
        return null;
    }

    /** Waits until one scheduler runs where it is assigned again, so that the next garbage starts from calm. */
    private void settle(List<String> problems, String what) {
        try {
            await().atMost(WAIT).until(() -> {
                String node = agents.assignment().map(x -> x.node()).orElse(null);
                return node != null && agents.runsOnlyOn(standIn, node);
            });
        } catch (ConditionTimeoutException e) {
            problems.add(what + ": no scheduler ran where assigned " + WAIT + " later: " + state());
        }
    }

    /** The stand-in, which on an SSH "host" (sshd marks its sessions) first waits {@value #SLOW_REMOTE_START} s. */
    private String slowOverSsh(String node) {
        return "\nasfc.scheduler.start-command = \"\"\"if [ -n \"${ASFC_TEST_SSHD:-}\" ]; then sleep "
                + SLOW_REMOTE_START + "; fi; exec python3 " + StandIn.SCRIPT + " --host " + node + " --control "
                + standIn.control(node) + " --tick-file " + dir.resolve("ticks") + "\"\"\"\n";
    }

    private Sshd host(String node) throws Exception {
        Sshd sshd = Sshd.startInOwnPidNamespace(dir.resolve("host-" + node));
        hosts.add(sshd);
        return sshd;
    }

    private static int port(ZkProxy forwarder) {
        String connect = forwarder.connectString();
        return Integer.parseInt(connect.substring(connect.lastIndexOf(':') + 1));
    }

    /**
     * SSH enforcement with agentless c, reached on {@code cPort} (its sshd's, or a forwarder's); a and b have agents
     * (trusted, never swept) and a closed SSH port. known_hosts names c's key under both ports.
     */
    private String sshConfig(Sshd c, int cPort) throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path knownHosts = dir.resolve("known_hosts");
        String line = c.hostKeyLine().replace("]:" + c.port() + " ", "]:" + cPort + " ") + "\n";
        if (!Files.exists(knownHosts) || !Files.readString(knownHosts).contains(line)) {
            Files.writeString(knownHosts, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return """

                asfc.node-hosts { a = "127.0.0.1", b = "127.0.0.1", c = "127.0.0.1" }
                asfc.agentless-nodes = [c]
                asfc.controller { poll-interval = 1s, verify-agents-every = 0 }
                asfc.scheduler.process-pattern = "airflow scheduler "
                asfc.ssh {
                  enabled = true
                  user = "%s"
                  identity-files = ["%s"]
                  known-hosts = "%s"
                  connect-timeout = 5s
                  command-timeout = 15s
                  hosts { a { port = %d }, b { port = %d }, c { port = %d } }
                }
                """
                .formatted(c.user(), c.clientKey(), knownHosts, closed, closed, cPort);
    }

    /** The stand-in main processes inside one host's pid namespace. */
    private List<ProcessInfo> insideMains(Sshd host) {
        Set<Long> there = host.processes().stream().map(ProcessInfo::pid).collect(Collectors.toSet());
        return standIn.mainProcesses(ProcessTable.snapshot()).stream()
                .filter(p -> there.contains(p.pid()))
                .toList();
    }

    /** The events so far, oldest first, as "type: detail". */
    private List<String> events() {
        List<String> result = new ArrayList<>();
        try {
            List<String> children = new ArrayList<>(
                    agents.observer().getChildren().forPath(agents.paths().events()));
            children.sort(null);
            for (String child : children) {
                byte[] data = agents.observer().getData().forPath(agents.paths().events() + "/" + child);
                Json.decode(child, data, EventRecord.class)
                        .ifPresent(e -> result.add(e.node() + " " + e.type() + ": " + e.detail()));
            }
        } catch (Exception e) {
            result.add("(events unreadable: " + e + ")");
        }
        return result;
    }

    /** The ACTIVE controller as {@code asfc-agent metadata --json} shows it. */
    private Optional<String> metadataActive() throws Exception {
        Path conf = dir.resolve("cli.conf");
        if (!Files.exists(conf)) {
            Files.writeString(
                    conf, "asfc { node.id = cli, zookeeper.connect = \"" + server.getConnectString() + "\" }\n");
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AsfcCli.execute(
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                "--conf",
                conf.toString(),
                "metadata",
                "--json");
        if (code != 0) {
            return Optional.empty();
        }
        JsonNode node = Json.mapper().readTree(out.toString()).path("active").path("node");
        return node.isTextual() ? Optional.of(node.asText()) : Optional.empty();
    }

    private Optional<ProcessInfo> onlyMain() {
        List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
        return mains.size() == 1 ? Optional.of(mains.get(0)) : Optional.empty();
    }

    private static String describe(List<ProcessInfo> mains) {
        return mains.stream()
                .map(p -> StandIn.node(p) + " (pid " + p.pid() + ")")
                .toList()
                .toString();
    }

    /** What runs and what is assigned, for a failure message. */
    private String state() {
        try {
            return "schedulers " + describe(standIn.mainProcesses(ProcessTable.snapshot())) + ", assignment "
                    + agents.assignment().orElse(null) + ", control "
                    + agents.control().orElse(null)
                    + ", active " + agents.active().orElse(null) + ", epoch " + agents.epoch() + ", agents "
                    + agents.published().stream()
                            .map(r -> r.node() + "=" + r.role())
                            .toList();
        } catch (Exception e) {
            return "(state unreadable: " + e + ")";
        }
    }
}
