package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Assignment;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leave-rule (DESIGN): the assignment may leave a node that may still run a scheduler only when
 * that node reported it stopped after the unassignment, or was fenced, or (an agent node only) its
 * agent is gone and takeover-grace has passed. Each test drives one sequence of the controller review
 * of c86bae1 (issue 16) in which today's code moves the scheduler without any of these, with real
 * agents, an in-process ZooKeeper and stand-in schedulers, and asserts S1 (no instant with two
 * schedulers), then that the scheduler ends up running on one node.
 *
 * <p>The old scheduler takes {@value #TERM_DELAY} s to exit after SIGTERM (stand-in {@code --term-delay}),
 * so that a wrong move shows as seconds of overlap in every run, not as a race lost now and then.
 * Where a node may be cut off, the timings keep the ordinary takeover clear of that exit: a holder cut
 * off from ZooKeeper sends SIGTERM 2/3 x 4 s + 2 s (self-fence-after) = 4.7 s after its last contact and
 * is gone at about 12.7 s; its session expires after 4 to 6 s, and takeover-grace is {@value #GRACE} s.
 * So only a path that skips the leave-rule can overlap. The timings also keep the self-fence budget
 * with the stop time counted (review finding 7): 2/3 x 4 s + 2 s + self-fence-stop-timeout 10 s < 4 s + 12 s.
 */
class LeaveRuleSequencesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Long enough for a correct controller: a's exit (12.7 s), grace (up to 18 s), b's start, STABLE. */
    private static final Duration SETTLE = Duration.ofSeconds(35);
    /** How long the end state must hold to count as settled. */
    private static final Duration STABLE = Duration.ofSeconds(2);
    /** A silent partition: whatever a host sends or should receive arrives only after this. */
    private static final Duration SILENT = Duration.ofSeconds(120);

    private static final int TERM_DELAY = 8;
    private static final int GRACE = 12;
    private static final String TIMINGS = StandIn.FAST_TIMINGS
            + """
            asfc.scheduler.stop-timeout = 10s
            asfc.scheduler.self-fence-stop-timeout = 10s
            asfc.controller.takeover-grace = %ds
            """
                    .formatted(GRACE);
    /** Agentless: past grace the move happens at once today. 2/3 x 4 s + 2 s + stop-timeout 3 s < 4 s + 4 s. */
    private static final String AGENTLESS_TIMINGS = StandIn.FAST_TIMINGS + "\nasfc.controller.takeover-grace = 4s\n";
    /** How long agentless c stays unreachable: far past takeover-grace and the fence attempts. */
    private static final Duration OUTAGE = Duration.ofSeconds(10);
    /** The start-command of command mode takes this long before the scheduler is there. */
    private static final int SLOW_START = 3;

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
            proxy.close(); // first: an agent cut off by latency then closes without waiting on ZooKeeper
        }
        agents.close();
        standIn.killAll();
        hosts.forEach(Sshd::close);
        server.close();
    }

    /**
     * Review finding 2: a move whose source agent vanishes mid-move. b leads, a runs the scheduler and is
     * silently cut off; the operator asks for b. b unassigns a and waits for a's report, which never
     * comes; at a's session expiry agents/a is gone, and today b assigns itself at once, without fencing
     * and without takeover-grace, while a has only just been told to stop.
     */
    @Test
    void failoverWhileHolderSilentlyCutOff() throws Exception {
        String nodes = "asfc.nodes = [a, b]";
        agents.pause(true); // so that b leads and a is assigned
        agents.start("b", server.getConnectString(), childConfig("b", nodes, ""));
        awaitActive("b");
        ZkProxy a = proxy();
        agents.start("a", a.connectString(), childConfig("a", nodes, "--term-delay " + TERM_DELAY));
        awaitCandidates(2);
        agents.pause(false);
        awaitRunningOnlyOn("a");

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            a.latency(SILENT);
            requestFailover("b");

            boolean settled = settles(() -> agents.runsOnlyOn(standIn, "b"));
            assertEquals(0, observer.overlapping(), observer.describe());
            assertTrue(settled, this::state);
        }
    }

    /**
     * Review finding 3: the leader dies mid-move, and the moving assignment ({@code node: null}) does not
     * say where the scheduler was. c leads, a runs the scheduler and is silently cut off; the operator
     * asks for b; c unassigns a and, while it waits for a, is stopped. b leads at once, finds {@code
     * node: null} and restarts the move "from null": no fence, no grace; a's stale report (running)
     * holds it only until a's session expires, then b assigns itself while a is still stopping.
     */
    @Test
    void leaderKilledMidMoveWhileHolderCutOff() throws Exception {
        String nodes = "asfc.nodes = [a, b, c]";
        agents.pause(true); // so that c leads, b is next in line, and a is assigned
        agents.start("c", server.getConnectString(), childConfig("c", nodes, ""));
        awaitActive("c");
        agents.start("b", server.getConnectString(), childConfig("b", nodes, ""));
        awaitCandidates(2);
        ZkProxy a = proxy();
        agents.start("a", a.connectString(), childConfig("a", nodes, "--term-delay " + TERM_DELAY));
        awaitCandidates(3);
        agents.pause(false);
        awaitRunningOnlyOn("a");

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            a.latency(SILENT);
            requestFailover("b");
            // c begins the move as any leader does (it writes the moving assignment), then dies before
            // a could report: it leaves the assignment exactly as a leader that died mid-move does.
            await().atMost(WAIT)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> agents.assignment().map(x -> x.node() == null).orElse(false));
            agents.stop("c");

            boolean settled = settles(() -> agents.runsOnlyOn(standIn, "b"));
            assertEquals(0, observer.overlapping(), observer.describe());
            assertTrue(settled, this::state);
        }
    }

    /**
     * Review finding 4: a stale report satisfies the two-phase move. Command mode, every start-command
     * takes {@value #SLOW_START} s. While b's start runs, the operator asks for a: the leader unassigns
     * b, and b's next heartbeat republishes the state from before the start ("not running") after the
     * unassignment, which today counts as "b stopped": a is assigned, and b's start lands anyway.
     */
    @Test
    void staleHeartbeatDuringSlowStart() throws Exception {
        String nodes = "asfc.nodes = [b, a]";
        agents.pause(true); // so that both agents are live when b is assigned
        agents.start("a", server.getConnectString(), commandConfig("a", nodes, ""));
        agents.start("b", server.getConnectString(), commandConfig("b", nodes, "--term-delay " + TERM_DELAY));
        awaitCandidates(2);
        await().atMost(WAIT).until(() -> agents.published().size() == 2);
        agents.pause(false);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> Files.exists(starting("b")));

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            requestFailover("a");
            assertTrue(
                    standIn.mainProcesses(ProcessTable.snapshot()).isEmpty(),
                    "the failover must be requested while b's start is still in progress");

            boolean settled = settles(() -> agents.runsOnlyOn(standIn, "a"));
            assertEquals(0, observer.overlapping(), observer.describe());
            assertTrue(settled, this::state);
        }
    }

    /**
     * Review finding 1: an agentless node that SSH cannot reach. c (agentless) runs the scheduler; its
     * SSH port stops answering. No agent on c can self-fence, so under {@code on-unfenceable = proceed}
     * the assignment must still never leave c while c cannot be fenced; today it moves after
     * takeover-grace and a second scheduler starts while c's runs on.
     */
    @Test
    void agentlessHolderUnreachableWithProceed() throws Exception {
        Sshd.assumeNamespacesAvailable();
        Sshd c = Sshd.startInOwnPidNamespace(dir.resolve("host-c"));
        hosts.add(c);
        ZkProxy sshToC = new ZkProxy(c.port()); // a cut of this forwarder is c's SSH going silent
        proxies.add(sshToC);
        String ssh = agentlessConfig(c, sshToC);
        for (String node : List.of("a", "b")) {
            agents.start(
                    node,
                    server.getConnectString(),
                    AGENTLESS_TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b, c]\n" + ssh);
        }
        awaitRunningOnlyOn("a");
        requestFailover("c");
        await().atMost(WAIT).until(() -> runsOnlyWhereAssigned(c).equals(Optional.of("c")));
        long onC = standIn.mainProcesses(ProcessTable.snapshot()).get(0).pid();

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            sshToC.cut();
            AtomicReference<String> left = new AtomicReference<>();
            long end = System.nanoTime() + OUTAGE.toNanos();
            await().atMost(OUTAGE.plus(WAIT))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        String node = agents.assignment().map(Assignment::node).orElse(null);
                        if (node != null && !node.equals("c")) {
                            left.compareAndSet(null, node);
                        }
                        return System.nanoTime() - end >= 0;
                    });
            assertEquals(0, observer.overlapping(), observer.describe() + "; pid " + onC + " runs on c");
            assertNull(left.get(), "the assignment left c, which could not be fenced, for " + left.get());
            sshToC.restore();

            // c is reachable again: it may keep the scheduler, or be fenced and give it up.
            boolean settled = settles(() -> runsOnlyWhereAssigned(c).isPresent());
            assertEquals(0, observer.overlapping(), "after c answered over SSH again: " + observer.describe());
            assertTrue(settled, this::state);
        }
    }

    /** Child mode: the stand-in with {@code args}, slow to exit only where args say so. */
    private String childConfig(String node, String nodes, String args) {
        return TIMINGS + standIn.config(node, args) + "\n" + nodes + "\n";
    }

    /**
     * Command mode, as the Python tool ran schedulers: a start-command that marks that it began, then
     * takes {@value #SLOW_START} s before it starts the stand-in as a daemon with a pid file (which is how
     * the agent finds it). The process pattern names only this node's stand-in, since all "hosts" share
     * this machine.
     */
    private String commandConfig(String node, String nodes, String args) {
        Path pidFile = dir.resolve(node + ".pid");
        String start = "touch " + starting(node) + "; sleep " + SLOW_START + "; " + standIn.daemon(node, pidFile, args);
        return TIMINGS + "\n" + nodes + "\n" + standIn.commandMode(node, pidFile, start);
    }

    /** Created by {@code node}'s start-command when it begins. */
    private Path starting(String node) {
        return dir.resolve(node + ".starting");
    }

    /**
     * SSH enforcement with agentless c, reached through {@code forwarder}; a and b have agents (trusted,
     * never swept) and a closed SSH port.
     */
    private String agentlessConfig(Sshd c, ZkProxy forwarder) throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String port =
                forwarder.connectString().substring(forwarder.connectString().lastIndexOf(':') + 1);
        Path knownHosts = dir.resolve("known_hosts");
        // known_hosts names the host with its port: c's key, under the forwarder's port
        Files.writeString(
                knownHosts,
                c.hostKeyLine().replace("]:" + c.port() + " ", "]:" + port + " ") + "\n",
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return """
                asfc.node-hosts { a = "127.0.0.1", b = "127.0.0.1", c = "127.0.0.1" }
                asfc.agentless-nodes = [c]
                asfc.controller { poll-interval = 1s, verify-agents-every = 0, on-unfenceable = proceed }
                asfc.scheduler.process-pattern = "airflow scheduler "
                asfc.ssh {
                  enabled = true
                  user = "%s"
                  identity-files = ["%s"]
                  known-hosts = "%s"
                  connect-timeout = 2s
                  command-timeout = 10s
                  hosts { a { port = %d }, b { port = %d }, c { port = %s } }
                }
                """
                .formatted(c.user(), c.clientKey(), knownHosts, closed, closed, port);
    }

    private ZkProxy proxy() throws Exception {
        ZkProxy proxy = new ZkProxy(server.getPort());
        proxies.add(proxy);
        return proxy;
    }

    /** Files a failover request, as {@code asfc-agent failover --to target --no-wait} does. */
    private void requestFailover(String target) throws Exception {
        ControlWriter.update(
                agents.observer(), agents.paths(), c -> c.withRequest(target, "to-" + target, Instant.now()));
    }

    private void awaitActive(String node) {
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of(node)));
    }

    /** Waits until {@code count} agents take part in the election, so that the next one started queues behind. */
    private void awaitCandidates(int count) {
        await().atMost(WAIT).until(() -> agents.candidates() == count);
    }

    private void awaitRunningOnlyOn(String node) {
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, node));
    }

    /** {@code condition} holds for {@link #STABLE} within {@link #SETTLE}. */
    private static boolean settles(Callable<Boolean> condition) {
        try {
            await().atMost(SETTLE).during(STABLE).until(condition);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * The node where the one scheduler runs, when exactly one runs and it is where the assignment says:
     * inside agentless c's pid namespace, or on an agent node whose agent reports it running.
     */
    private Optional<String> runsOnlyWhereAssigned(Sshd c) throws Exception {
        List<ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
        String assigned = agents.assignment().map(Assignment::node).orElse(null);
        if (mains.size() != 1 || assigned == null) {
            return Optional.empty();
        }
        boolean onC =
                c.processes().stream().anyMatch(p -> p.pid() == mains.get(0).pid());
        if (assigned.equals("c")) {
            return onC ? Optional.of("c") : Optional.empty();
        }
        return !onC && agents.runsOnlyOn(standIn, assigned) ? Optional.of(assigned) : Optional.empty();
    }

    /** What runs and what is assigned, for a failure message. */
    private String state() {
        try {
            return "did not settle within " + SETTLE + ": schedulers "
                    + standIn.mainProcesses(ProcessTable.snapshot()).stream()
                            .map(p -> StandIn.node(p) + " (pid " + p.pid() + ")")
                            .toList()
                    + ", assignment " + agents.assignment().orElse(null)
                    + ", control " + agents.control().orElse(null);
        } catch (Exception e) {
            return "did not settle within " + SETTLE + " (state unreadable: " + e + ")";
        }
    }
}
