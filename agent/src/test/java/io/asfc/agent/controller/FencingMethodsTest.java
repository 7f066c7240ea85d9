package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pluggable fencing ({@code controller.fencing}, issue 17) with real agents, an in-process ZooKeeper,
 * stand-in schedulers and, for the agentless node, a real sshd in its own pid namespace. A {@code shell:}
 * method is the leave-rule's (b) exactly as the SSH stop is: the assignment leaves a node whose scheduler
 * nothing else can vouch for only when a method exits 0; a method that fails, or hangs past
 * {@code fencing-timeout}, confirms nothing, and an agentless node then keeps the assignment.
 */
class FencingMethodsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration STABLE = Duration.ofSeconds(2);
    /** How long a blocked move is watched for not happening (no timing is asserted: it must never happen). */
    private static final Duration HELD = Duration.ofSeconds(6);

    private static final String TIMINGS = StandIn.FAST_TIMINGS + "\nasfc.controller.takeover-grace = 4s\n";

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
     * Agentless c runs the scheduler and its SSH goes silent; the operator asks for a. The SSH stop fails,
     * so today the move is blocked for good. With a {@code shell:} method after {@code ssh} (here a script
     * that stops c's scheduler by pid, as an IPMI power-off would) the leader confirms c stopped and a
     * takes over, never two at once. The method sees the node, its host, the cluster and the generation
     * of the unassignment in its environment.
     */
    @Test
    void shellMethodLetsTheSchedulerLeaveAnAgentlessNodeSshCannotReach() throws Exception {
        Path fence = script(
                "fence-by-pid",
                """
                env | grep '^ASFC_' | sort > "%1$s/fence-$ASFC_NODE.env"
                pid=$(cat "%1$s/c.pid")
                kill -TERM "$pid"
                while [ -e /proc/$pid ] && ! grep -q ') Z ' /proc/$pid/stat; do sleep 0.1; done
                exit 0
                """
                        .formatted(dir));
        Sshd c = agentlessClusterWithSchedulerOnC("[ssh, \"shell:" + fence + "\"]");
        ZkProxy sshToC = proxies.get(proxies.size() - 1);

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            sshToC.cut();
            requestFailover("a");

            await().atMost(WAIT.plus(WAIT)).during(STABLE).until(() -> agents.runsOnlyOn(standIn, "a"));
            assertEquals(0, observer.overlapping(), observer.describe());
        }
        assertTrue(
                c.processes().stream().noneMatch(p -> p.cmdline().startsWith("airflow scheduler ")),
                "c's scheduler is gone: " + c.processes());
        String env = Files.readString(dir.resolve("fence-c.env"));
        assertTrue(env.contains("ASFC_NODE=c\n"), env);
        assertTrue(env.contains("ASFC_HOST=127.0.0.1\n"), env);
        assertTrue(env.contains("ASFC_CLUSTER=default\n"), env);
        assertTrue(env.matches("(?s).*ASFC_GENERATION=[1-9][0-9]*\n.*"), env);
        assertTrue(
                events("host-stopped").stream().anyMatch(e -> e.detail().contains("shell")),
                "the host stop names the method that confirmed it: " + events("host-stopped"));
    }

    /**
     * An agent node, with SSH off: a's agent freezes, and its session expires. Only a {@code shell:} method can
     * confirm a's scheduler stopped ({@code on-unfenceable = wait}: no (c)); here a script that kills a's
     * scheduler session by its id, as a power-off would. The leader runs it for a (leave-rule (b)) and b takes
     * over, never two at once.
     */
    @Test
    void shellMethodFencesAnAgentNodeWhenSshIsOff() throws Exception {
        Path fence = script(
                "fence-session",
                """
                env | grep '^ASFC_' | sort > "%1$s/fence-$ASFC_NODE.env"
                read -r sid _ < "%1$s/run/scheduler-$ASFC_NODE.session" || exit 0
                alive() { ps -o pid=,stat= -s "$sid" | awk '$2 !~ /^Z/ { print $1 }'; }
                pids=$(alive)
                [ -n "$pids" ] && kill -KILL $pids
                while [ -n "$(alive)" ]; do sleep 0.1; done
                exit 0
                """
                        .formatted(dir));
        String conf = TIMINGS + "\nasfc.nodes = [a, b]\nasfc.controller { fencing = [\"shell:" + fence
                + "\"], fencing-timeout = 5s, on-unfenceable = wait }\n";

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            AgentProcess a = agents.startProcess("a", server.getConnectString(), conf + standIn.config("a", ""));
            await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "a"));
            agents.start("b", server.getConnectString(), conf + standIn.config("b", ""));
            await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());

            a.freeze();
            try {
                await().atMost(WAIT).during(STABLE).until(() -> agents.runsOnlyOn(standIn, "b"));
            } finally {
                a.thaw();
            }
            assertEquals(0, observer.overlapping(), observer.describe());
        }
        String env = Files.readString(dir.resolve("fence-a.env"));
        assertTrue(env.contains("ASFC_NODE=a\n"), env);
        assertTrue(
                events("host-stopped").stream().anyMatch(e -> e.detail().contains("shell")),
                "the host stop names the method that confirmed it: " + events("host-stopped"));
    }

    /**
     * The same outage, with methods that confirm nothing: one exits 1, the next hangs past
     * {@code fencing-timeout} (its process tree is killed). c is agentless, so no (c) applies: the move
     * waits, c's scheduler runs on alone, and nothing else starts.
     */
    @Test
    void failingAndHangingMethodsNeverLetAnAgentlessNodeGo() throws Exception {
        Path hang = script(
                "fence-hangs",
                "echo $$ > \"%s/hang.pid\"\nsleep 600 &\necho $! > \"%s/hang-child.pid\"\nwait\n".formatted(dir, dir));
        Sshd c = agentlessClusterWithSchedulerOnC("[ssh, \"shell:exit 1\", \"shell:" + hang + "\"]");
        ZkProxy sshToC = proxies.get(proxies.size() - 1);

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            sshToC.cut();
            requestFailover("a");

            await().atMost(WAIT).until(() -> !events("unfenceable").isEmpty());
            await().atMost(WAIT).until(() -> Files.exists(dir.resolve("hang-child.pid")));
            long hanging =
                    Long.parseLong(Files.readString(dir.resolve("hang.pid")).trim());
            long child = Long.parseLong(
                    Files.readString(dir.resolve("hang-child.pid")).trim());
            await().atMost(WAIT)
                    .until(() -> ProcessTable.read(hanging).isEmpty()
                            && ProcessTable.read(child).isEmpty());
            await().during(HELD).atMost(HELD.plus(WAIT)).until(() -> {
                Optional<Assignment> a = agents.assignment();
                return a.isPresent()
                        && a.get().node() == null
                        && "c".equals(a.get().movingFrom())
                        && onlyOnC(c);
            });
            assertEquals(0, observer.overlapping(), observer.describe());
        }
        assertTrue(
                events("unfenceable").get(0).detail().contains("exit 1"),
                "every method's outcome is reported: " + events("unfenceable"));
        assertTrue(
                events("unfenceable").get(0).detail().contains("timed out"),
                events("unfenceable").toString());
    }

    /**
     * Agentless c (through an SSH forwarder, returned last in {@link #proxies}) runs the scheduler, with
     * a and b (agents) in {@code nodes = [a, b, c]} and {@code fencing} as given.
     */
    private Sshd agentlessClusterWithSchedulerOnC(String fencing) throws Exception {
        Sshd.assumeNamespacesAvailable();
        Sshd c = Sshd.startInOwnPidNamespace(dir.resolve("host-c"));
        hosts.add(c);
        ZkProxy sshToC = new ZkProxy(c.port());
        proxies.add(sshToC);
        String conf =
                agentlessConfig(c, sshToC) + "\nasfc.controller { fencing = " + fencing + ", fencing-timeout = 2s }\n";
        for (String node : List.of("a", "b")) {
            agents.start(
                    node,
                    server.getConnectString(),
                    TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b, c]\n" + conf);
        }
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "a"));
        requestFailover("c");
        await().atMost(WAIT)
                .until(() -> agents.assignment().map(x -> "c".equals(x.node())).orElse(false) && onlyOnC(c));
        long onC = standIn.mainProcesses(ProcessTable.snapshot()).get(0).pid();
        Files.writeString(dir.resolve("c.pid"), Long.toString(onC));
        return c;
    }

    /**
     * Exactly one stand-in scheduler runs, inside c's pid namespace. (The leader starts c's scheduler with
     * its own start-command, so the stand-in's {@code --host} names the leader; where it runs tells.)
     */
    private boolean onlyOnC(Sshd c) {
        List<io.asfc.common.process.ProcessInfo> mains = standIn.mainProcesses(ProcessTable.snapshot());
        return mains.size() == 1
                && c.processes().stream().anyMatch(p -> p.pid() == mains.get(0).pid());
    }

    /** As in {@link LeaveRuleSequencesTest}: a and b have agents and a closed SSH port; c is reached through forwarder. */
    private String agentlessConfig(Sshd c, ZkProxy forwarder) throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String port =
                forwarder.connectString().substring(forwarder.connectString().lastIndexOf(':') + 1);
        Path knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, c.hostKeyLine().replace("]:" + c.port() + " ", "]:" + port + " ") + "\n");
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

    private Path script(String name, String body) throws Exception {
        Path file = dir.resolve(name + ".sh");
        Files.writeString(file, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private void requestFailover(String target) throws Exception {
        ControlWriter.update(
                agents.observer(), agents.paths(), c -> c.withRequest(target, "to-" + target, Instant.now()));
    }

    private List<EventRecord> events(String type) throws Exception {
        List<EventRecord> found = new ArrayList<>();
        var zk = agents.observer();
        if (zk.checkExists().forPath(agents.paths().events()) == null) {
            return found;
        }
        List<String> children =
                new ArrayList<>(zk.getChildren().forPath(agents.paths().events()));
        children.sort(null);
        for (String child : children) {
            try {
                Json.decode(child, zk.getData().forPath(agents.paths().events() + "/" + child), EventRecord.class)
                        .filter(e -> e.type().equals(type))
                        .ifPresent(found::add);
            } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
                // trimmed meanwhile
            }
        }
        return found;
    }
}
