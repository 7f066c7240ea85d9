package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ACTIVE controller's SSH operations against real sshd "hosts": each is an sshd in its own
 * pid and mount namespace, so its /proc shows only that host's processes.
 */
class SshOpsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final GreenMailExtension mail =
            new GreenMailExtension(ServerSetupTest.SMTP.createCopy("127.0.0.1").dynamicPort());

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final List<Sshd> hosts = new ArrayList<>();
    private int closedPort;

    @BeforeEach
    void start() throws Exception {
        Sshd.assumeNamespacesAvailable();
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (agents != null) {
            agents.close();
        }
        if (standIn != null) {
            standIn.killAll();
        }
        hosts.forEach(Sshd::close);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void strayStartedByHandIsStoppedAndMailed() throws Exception {
        Sshd b = host("b");
        Sshd c = host("c");
        String ssh = sshConfig(Map.of("b", b, "c", c))
                // check b over SSH at every sweep although its agent is alive: a child-mode agent
                // does not see a scheduler that someone else started
                + "asfc.controller.verify-agents-every = 1\n"
                + mailConfig();
        for (String node : List.of("a", "b")) {
            agents.start(node, server.getConnectString(), config(node, ssh));
        }
        awaitRunning("a");
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());

        // An operator starts a scheduler by hand on b (it has an agent) and on c (agentless).
        startByHand(b, "b");
        startByHand(c, "c");
        await().atMost(WAIT)
                .until(() -> insideStandIns(b).isEmpty() && insideStandIns(c).isEmpty());

        await().atMost(WAIT).until(() -> Set.copyOf(mailSubjects())
                .containsAll(Set.of(
                        "[asfc] default: stray scheduler stopped on b",
                        "[asfc] default: stray scheduler stopped on c")));
        List<EventRecord> strays = events("stray-stopped");
        assertTrue(
                strays.stream().anyMatch(e -> e.detail().startsWith("stray scheduler on b ")),
                () -> "events: " + strays);
        assertTrue(
                strays.stream().anyMatch(e -> e.detail().startsWith("stray scheduler on c ")),
                () -> "events: " + strays);
        String body = Arrays.stream(mail.getReceivedMessages())
                .map(GreenMailUtil::getBody)
                .filter(text -> text.contains("Where: node c"))
                .findFirst()
                .orElseThrow();
        assertTrue(body.contains("What the controller did: "), body);
        // the assigned scheduler was left alone
        assertTrue(agents.agentRecord("a").map(r -> r.scheduler().running()).orElse(false));
        assertEquals(Optional.of("a"), agents.assignment().map(x -> x.node()));
    }

    @Test
    void unreachableHostGivesOneEventAndOneMailPerOutage() throws Exception {
        Sshd c = host("c");
        // b has no agent and its SSH port is closed: every sweep fails to reach it
        String ssh = sshConfig(Map.of("c", c)) + mailConfig() + "asfc.http { enabled = true, port = 0 }\n";
        var a = agents.start("a", server.getConnectString(), config("a", ssh));
        awaitRunning("a");
        String metrics = "http://" + a.httpAddress().orElseThrow().getHostString() + ":"
                + a.httpAddress().orElseThrow().getPort() + "/metrics";
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

        // at least three sweeps have found b unreachable
        await().atMost(WAIT).until(() -> refusals(http, metrics) >= 3);
        await().atMost(WAIT).until(() -> mailSubjects().contains("[asfc] default: host b is unreachable"));

        List<EventRecord> outages = events("host-unreachable");
        assertEquals(1, outages.size(), () -> "one event per outage: " + outages);
        assertTrue(outages.get(0).detail().startsWith("b: connection refused"), outages::toString);
        assertEquals(
                1,
                mailSubjects().stream()
                        .filter(s -> s.contains("host b is unreachable"))
                        .count(),
                () -> "one mail per outage: " + mailSubjects());
    }

    /** {@code asfc_ssh_failures_total{reason="connection_refused"}} as the agent serves it. */
    private static double refusals(java.net.http.HttpClient http, String url) throws Exception {
        String body = http.send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
        return body.lines()
                .filter(l -> l.startsWith("asfc_ssh_failures_total{reason=\"connection_refused\"}"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void agentlessNodeRunsTheSchedulerOverSsh() throws Exception {
        Sshd c = host("c");
        String ssh = sshConfig(Map.of("c", c));
        for (String node : List.of("a", "b")) {
            agents.start(node, server.getConnectString(), config(node, ssh));
        }
        awaitRunning("a");

        // An agentless node can be assigned: the controller starts it there over SSH ...
        io.asfc.agent.cluster.ControlWriter.update(
                agents.observer(), agents.paths(), r -> r.withRequest("c", "req-1", java.time.Instant.now()));
        await().atMost(WAIT)
                .until(() -> agents.assignment().map(x -> "c".equals(x.node())).orElse(false));
        await().atMost(WAIT).until(() -> insideMains(c).size() == 1);
        // (The stand-in names itself after the leader's config, "--host a"; what counts is where it runs.)
        assertTrue(
                pids(c).containsAll(standIn.mainProcesses(ProcessTable.snapshot()).stream()
                        .map(ProcessInfo::pid)
                        .toList()),
                "a's scheduler stopped; only c runs one: " + standIn.mainProcesses(ProcessTable.snapshot()));

        // ... and restarts it there when it dies. Only the main is killed: its DagFileProcessorManager lives on,
        // orphaned (as Airflow 3's LocalExecutor workers do). It matches process-pattern, but it is a helper
        // (helper-pattern), not a scheduler: the controller sees the death, stops it, and starts a new scheduler.
        ProcessInfo first = insideMains(c).get(0);
        await().atMost(WAIT).until(() -> managers(c).size() == 1);
        ProcessInfo manager = managers(c).get(0);
        ProcessHandle.of(first.pid()).ifPresent(ProcessHandle::destroyForcibly);
        await().atMost(WAIT).until(() -> insideMains(c).stream().anyMatch(p -> p.pid() != first.pid()));
        assertTrue(events("scheduler-died").stream().anyMatch(e -> e.detail().startsWith("c:")));
        assertTrue(
                c.processes().stream()
                        .noneMatch(p -> p.pid() == manager.pid() && p.startTicks() == manager.startTicks()),
                "the orphaned manager was stopped before the new scheduler started");
    }

    private static List<ProcessInfo> managers(Sshd host) {
        return host.processes().stream()
                .filter(p -> p.cmdline().startsWith("airflow scheduler -- DagFileProcessorManager")
                        && p.cmdline().contains(StandIn.SCRIPT.toString()))
                .toList();
    }

    /**
     * A move waits for SSH work in flight on its target instead of assigning another node. Over a slow link, c's
     * checks keep it busy most of the time; the move must still end on c, the node the operator named.
     */
    @Test
    void moveToAnAgentlessNodeWaitsForItsSshCheckInsteadOfPickingAnother() throws Exception {
        Sshd c = host("c");
        try (ZkProxy slow = new ZkProxy(c.port())) {
            slow.latency(Duration.ofMillis(60));
            String slowPort =
                    slow.connectString().substring(slow.connectString().lastIndexOf(':') + 1);
            String ssh =
                    sshConfig(Map.of("c", c)).replace("c { port = " + c.port() + " }", "c { port = " + slowPort + " }");
            // known_hosts names the host with its port: c's key, under the forwarder's port
            Files.writeString(
                    dir.resolve("known_hosts"),
                    c.hostKeyLine().replace("]:" + c.port() + " ", "]:" + slowPort + " ") + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
            for (String node : List.of("a", "b")) {
                agents.start(node, server.getConnectString(), config(node, ssh));
            }
            awaitRunning("a");

            io.asfc.agent.cluster.ControlWriter.update(
                    agents.observer(), agents.paths(), r -> r.withRequest("c", "req-slow", java.time.Instant.now()));
            await().atMost(WAIT)
                    .until(() -> agents.control().map(r -> r.answered()).orElse(false)); // not "accepted: ..."

            assertEquals("moved to c", agents.control().orElseThrow().result(), "the move went where it was asked to");
            assertEquals("c", agents.assignment().orElseThrow().node());
            await().atMost(WAIT).until(() -> insideMains(c).size() == 1);
        }
    }

    @Test
    void assignedHostIsFencedOverSshBeforeAnotherNodeStarts() throws Exception {
        Sshd a = host("a");
        // c is agentless: the first assignment (from an empty znode, so from anywhere) needs c
        // confirmed stopped over SSH, as an agentless node that cannot be checked may run one.
        String ssh = sshConfig(Map.of("a", a, "c", host("c")));
        // a's scheduler runs inside a's namespace, where its sshd can see (and fence) it.
        // A real agent process, killed with -9 below; without stop-with-agent its scheduler outlives it.
        AgentProcess agentA = agents.startProcess(
                "a",
                server.getConnectString(),
                config("a", ssh)
                        + "\nasfc.scheduler.stop-with-agent = false"
                        + "\nasfc.controller.takeover-grace = 2s" // the command line checks the S4 budget
                        + "\nasfc.scheduler.start-command = \"\"\"exec nsenter --target " + a.namespacePid()
                        + " --pid --mount -- /usr/bin/python3 " + StandIn.SCRIPT + " --host a --tick-file "
                        + dir.resolve("ticks") + "\"\"\"\n");
        await().atMost(WAIT).until(() -> insideMains(a).size() == 1);
        agents.start("b", server.getConnectString(), config("b", ssh) + "\nasfc.controller.takeover-grace = 2s");
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());

        // a's agent dies (kill -9) without stopping its scheduler: its session expires, the scheduler runs on.
        agentA.kill();
        await().atMost(WAIT)
                .until(() -> agents.assignment().map(x -> "b".equals(x.node())).orElse(false));
        assertTrue(insideMains(a).isEmpty(), "a's scheduler was stopped before b was assigned");
        assertTrue(
                events("host-stopped").stream()
                        .anyMatch(e -> e.detail().startsWith("a:") && e.detail().contains("stopped")),
                () -> "events: " + eventsQuietly());
        await().atMost(WAIT).until(() -> standIn.mains().containsKey("b"));
    }

    /**
     * Starts a stand-in on the host by hand (ssh exits 0 once it runs). No wait for it to show: the
     * sweep may stop it before this test could see it, and the stray-stopped events name its pids.
     */
    private void startByHand(Sshd host, String node) throws Exception {
        host.startByHand(standIn.byHand(node));
    }

    /** Every stand-in process (main or helper) inside one host's pid namespace. */
    private static List<ProcessInfo> insideStandIns(Sshd host) {
        return host.processes().stream()
                .filter(p -> p.cmdline().contains(StandIn.SCRIPT.toString()))
                .toList();
    }

    private static String mailConfig() {
        return """
                asfc.alerts.email {
                  enabled = true
                  to = ["ops@localhost"]
                  from = "asfc@localhost"
                  smtp { host = "127.0.0.1", port = %d }
                }
                """
                .formatted(mail.getSmtp().getPort());
    }

    private static List<String> mailSubjects() {
        return Arrays.stream(mail.getReceivedMessages())
                .map(m -> {
                    try {
                        return m.getSubject();
                    } catch (jakarta.mail.MessagingException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .toList();
    }

    private Sshd host(String node) throws Exception {
        Sshd sshd = Sshd.startInOwnPidNamespace(dir.resolve("host-" + node));
        hosts.add(sshd);
        return sshd;
    }

    /** SSH config: the given nodes reach their sshd; every other node a closed port (unreachable). */
    private String sshConfig(Map<String, Sshd> reachable) throws Exception {
        Path knownHosts = dir.resolve("known_hosts");
        StringBuilder known = new StringBuilder();
        StringBuilder keys = new StringBuilder();
        StringBuilder overrides = new StringBuilder();
        for (String node : List.of("a", "b", "c")) {
            Sshd s = reachable.get(node);
            overrides
                    .append(node)
                    .append(" { port = ")
                    .append(s == null ? closedPort : s.port())
                    .append(" }\n");
            if (s != null) {
                known.append(s.hostKeyLine()).append('\n');
                keys.append('"').append(s.clientKey()).append("\", ");
            }
        }
        Files.writeString(knownHosts, known);
        String user = reachable.values().iterator().next().user();
        return """
                asfc.node-hosts { a = "127.0.0.1", b = "127.0.0.1", c = "127.0.0.1" }
                asfc.agentless-nodes = [c]
                asfc.controller { poll-interval = 1s, verify-agents-every = 0 }
                asfc.ssh {
                  enabled = true
                  user = "%s"
                  identity-files = [%s]
                  known-hosts = "%s"
                  connect-timeout = 2s
                  command-timeout = 10s
                  hosts { %s }
                }
                """
                .formatted(user, keys, knownHosts, overrides);
    }

    private String config(String node, String ssh) {
        return StandIn.FAST_TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b, c]\n" + ssh
                + "\nasfc.scheduler.process-pattern = \"airflow scheduler \"\n";
    }

    /** The stand-in main processes inside one host's pid namespace. */
    private List<ProcessInfo> insideMains(Sshd host) {
        Set<Long> there = pids(host);
        // every main process, not one per node: the leader's config names c's scheduler "--host a"
        return standIn.mainProcesses(ProcessTable.snapshot()).stream()
                .filter(p -> there.contains(p.pid()))
                .toList();
    }

    private static Set<Long> pids(Sshd host) {
        return host.processes().stream().map(ProcessInfo::pid).collect(Collectors.toSet());
    }

    private void awaitRunning(String node) {
        await().atMost(WAIT).until(() -> agents.agentRecord(node)
                .map(r -> r.scheduler().running())
                .orElse(false));
    }

    private List<EventRecord> eventsQuietly() {
        try {
            return events(null);
        } catch (Exception e) {
            return List.of();
        }
    }

    private List<EventRecord> events(String type) throws Exception {
        List<EventRecord> result = new ArrayList<>();
        List<String> children;
        try {
            children = agents.observer().getChildren().forPath(agents.paths().events());
        } catch (KeeperException.NoNodeException e) {
            return result;
        }
        children.sort(null);
        for (String child : children) {
            byte[] data = agents.observer().getData().forPath(agents.paths().events() + "/" + child);
            Optional<EventRecord> e = Json.decode(child, data, EventRecord.class);
            e.filter(r -> type == null || r.type().equals(type)).ifPresent(result::add);
        }
        return result;
    }
}
