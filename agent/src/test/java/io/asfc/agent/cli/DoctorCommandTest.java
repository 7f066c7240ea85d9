package io.asfc.agent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.Json;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code doctor} end to end: real ZooKeeper, two real agents (a and b) running the stand-in
 * scheduler, and real sshd hosts, one of whose remote user has a slow {@code ~/.bashrc}.
 */
class DoctorCommandTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final Deque<AutoCloseable> closing = new ArrayDeque<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
        for (String node : List.of("a", "b")) {
            agents.start(node, server.getConnectString(), StandIn.FAST_TIMINGS + standIn.config(node, ""));
        }
        await().atMost(WAIT)
                .until(() -> agents.soleActive().isPresent()
                        && agents.agentRecord("a")
                                .map(r -> r.scheduler().running())
                                .orElse(false));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        agents.close();
        standIn.killAll();
        server.close();
    }

    @Test
    void aHealthyClusterExitsZeroAndItsJsonHasEveryDocumentedField() throws Exception {
        Sshd.assumeAvailable();
        Sshd host = track(Sshd.start(dir.resolve("host")));
        Files.writeString(dir.resolve("known_hosts"), host.hostKeyLine() + "\n");
        Map<String, Sshd> ssh = new LinkedHashMap<>();
        ssh.put("a", host);
        ssh.put("b", host);
        Path conf = conf(ssh, "");

        AtomicReference<CliRun> text = new AtomicReference<>();
        await().atMost(WAIT).until(() -> {
            text.set(CliRun.of("--conf", conf.toString(), "doctor"));
            return text.get().exitCode() == 0; // the second agent settles as STANDBY a moment after start
        });
        CliRun json = CliRun.of("--conf", conf.toString(), "doctor", "--json");

        assertTrue(text.get().out().contains("healthy: no findings"), text.get()::toString);
        assertTrue(
                row(text.get(), "a").matches("a +healthy +present +\\S+ +(ACTIVE|STANDBY) +[+-]\\d+ms +no +no +ok .*"),
                text.get()::toString);
        assertEquals(0, json.exitCode(), json::toString);
        JsonNode report = Json.mapper().readTree(json.out());
        assertFields(
                report,
                "schemaVersion",
                "status",
                "exitCode",
                "cluster",
                "path",
                "checkedAt",
                "zookeeper",
                "active",
                "scheduler",
                "paused",
                "s4Budget",
                "nodes",
                "findings");
        assertEquals(1, report.get("schemaVersion").asInt());
        assertEquals("healthy", report.get("status").asText());
        assertFields(report.get("zookeeper"), "connect", "reachable", "latencyMillis", "error");
        assertFields(report.get("active"), "node", "epoch", "agreed");
        assertFields(report.get("scheduler"), "assignedTo", "epoch", "movingFrom", "running", "healthy", "starting");
        assertFields(report.get("s4Budget"), "holds", "problem");
        assertEquals("a", report.get("scheduler").get("assignedTo").asText());
        assertTrue(report.get("scheduler").get("running").asBoolean());
        assertEquals(2, report.get("nodes").size());
        JsonNode a = report.get("nodes").get(0);
        assertFields(
                a,
                "node",
                "status",
                "agent",
                "host",
                "version",
                "role",
                "schedulerRunning",
                "heartbeatAt",
                "clockSkewMillis",
                "quarantined",
                "cordoned",
                "ssh");
        assertFields(a.get("ssh"), "ok", "phasesMillis", "failedIn", "slowest", "verdict");
        assertFields(a.get("ssh").get("phasesMillis"), "connect", "authenticate", "shellStart", "command");
        assertEquals(
                report.get("active").get("node").asText().equals("a") ? "ACTIVE" : "STANDBY",
                a.get("role").asText());
        assertEquals(0, report.get("findings").size());
    }

    @Test
    void aDegradedClusterNamesEachNodeAndCause() throws Exception {
        Sshd.assumeAvailable();
        Sshd host = track(Sshd.start(dir.resolve("host")));
        Sshd slow = track(Sshd.start(dir.resolve("slow")));
        // what issue 17 saw: pyenv init waiting on a stale lock in the remote user's ~/.bashrc
        Files.writeString(slow.home().resolve(".bashrc"), "sleep 3\n");
        Files.writeString(dir.resolve("known_hosts"), host.hostKeyLine() + "\n" + slow.hostKeyLine() + "\n");
        Map<String, Sshd> ssh = new LinkedHashMap<>();
        ssh.put("a", host);
        ssh.put("b", host);
        ssh.put("c", slow);
        Path conf = conf(ssh, "asfc.ssh.command-timeout = 5s\n");
        assertEquals(0, CliRun.of("--conf", conf.toString(), "pause").exitCode());
        // a failover request filed two minutes ago with a 1 s time to live; paused, no controller answers it
        String request = "{\"paused\":true,\"failoverTo\":\"b\",\"requestId\":\"r-stale\",\"requestedAt\":\""
                + Instant.now().minusSeconds(120) + "\",\"ttlMillis\":1000,\"result\":null,\"resultAt\":null}";
        agents.observer().setData().forPath(agents.paths().control(), request.getBytes(StandardCharsets.UTF_8));
        agents.observer()
                .create()
                .creatingParentsIfNeeded()
                .forPath(agents.paths().node("c"), "{not json".getBytes(StandardCharsets.UTF_8));

        CliRun run = CliRun.of("--conf", conf.toString(), "doctor");
        CliRun json = CliRun.of("--conf", conf.toString(), "doctor", "--json");

        assertEquals(1, run.exitCode(), run::toString);
        assertTrue(run.out().contains("DEGRADED: "), run::toString);
        assertTrue(row(run, "a").startsWith("a "), run::toString);
        assertTrue(
                row(run, "c").matches("c +degraded +absent +- +- +- +no +no +SLOW .*slowest shellStart\\)"),
                run::toString);
        assertTrue(finding(run, "paused").startsWith("degraded - "), run::toString);
        assertTrue(finding(run, "request").contains("stale request: failover to b (id r-stale"), run::toString);
        assertTrue(finding(run, "agent").contains("c has no live agent"), run::toString);
        assertTrue(finding(run, "garbage").contains("nodes/c holds malformed data"), run::toString);
        String sshFinding = finding(run, "ssh");
        assertTrue(sshFinding.startsWith("degraded c "), run::toString);
        assertTrue(sshFinding.contains("the remote shell start took"), run::toString);
        assertTrue(sshFinding.contains("~/.bashrc"), run::toString);
        assertFalse(sshFinding.contains("unreachable"), run::toString);

        assertEquals(1, json.exitCode(), json::toString);
        JsonNode report = Json.mapper().readTree(json.out());
        assertEquals("degraded", report.get("status").asText());
        JsonNode c = report.get("nodes").get(2);
        assertEquals("c", c.get("node").asText());
        assertEquals("absent", c.get("agent").asText());
        assertEquals("shellStart", c.get("ssh").get("slowest").asText());
        assertTrue(c.get("ssh").get("ok").asBoolean(), c::toString);
        assertTrue(report.get("paused").asBoolean());
    }

    @Test
    void noSchedulerOrNoZooKeeperIsDown() throws Exception {
        Path empty = dir.resolve("empty.conf");
        Files.writeString(
                empty,
                "asfc { node.id = a, nodes = [a, b], cluster = empty, ssh.enabled = false, zookeeper.connect = \""
                        + server.getConnectString() + "\" }\n");
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path unreachable = dir.resolve("unreachable.conf");
        Files.writeString(
                unreachable,
                "asfc { node.id = a, nodes = [a, b], ssh.enabled = false, zookeeper { connect = \"127.0.0.1:" + closed
                        + "\", connection-timeout = 1s } }\n");

        CliRun nothing = CliRun.of("--conf", empty.toString(), "doctor");
        CliRun noZk = CliRun.of("--conf", unreachable.toString(), "doctor", "--json");

        assertEquals(2, nothing.exitCode(), nothing::toString);
        assertTrue(finding(nothing, "scheduler").startsWith("down "), nothing::toString);
        assertTrue(finding(nothing, "active").contains("no ACTIVE controller"), nothing::toString);
        assertEquals(2, noZk.exitCode(), noZk::toString);
        JsonNode report = Json.mapper().readTree(noZk.out());
        assertEquals("down", report.get("status").asText());
        assertFalse(report.get("zookeeper").get("reachable").asBoolean());
        assertEquals("zookeeper", report.get("findings").get(0).get("check").asText());
        assertTrue(report.get("findings").get(0).get("message").asText().contains("cannot reach ZooKeeper"));
    }

    private <T extends AutoCloseable> T track(T closeable) {
        closing.push(closeable);
        return closeable;
    }

    /** The operator's config: these nodes, each reached over SSH at its sshd; {@code extra} HOCON last. */
    private Path conf(Map<String, Sshd> ssh, String extra) throws Exception {
        StringBuilder hosts = new StringBuilder();
        StringBuilder overrides = new StringBuilder();
        StringBuilder keys = new StringBuilder();
        ssh.forEach((node, host) -> {
            hosts.append(node).append(" = \"127.0.0.1\", ");
            overrides.append(node).append(" { port = ").append(host.port()).append(" }\n");
            keys.append('"').append(host.clientKey()).append("\", ");
        });
        Path conf = dir.resolve("doctor-" + String.join("-", ssh.keySet()) + ".conf");
        Files.writeString(
                conf,
                """
                asfc {
                  node.id = a
                  nodes = [%s]
                  node-hosts { %s }
                  zookeeper.connect = "%s"
                  ssh {
                    user = "%s"
                    identity-files = [%s]
                    known-hosts = "%s"
                    connect-timeout = 5s
                    command-timeout = 10s
                    hosts { %s }
                  }
                }
                %s
                """
                        .formatted(
                                String.join(", ", ssh.keySet()),
                                hosts,
                                server.getConnectString(),
                                ssh.values().iterator().next().user(),
                                keys,
                                dir.resolve("known_hosts"),
                                overrides,
                                extra));
        return conf;
    }

    private static String row(CliRun run, String node) {
        Optional<String> line =
                run.out().lines().filter(l -> l.startsWith(node + " ")).findFirst();
        return line.orElseThrow(() -> new AssertionError("no row for " + node + " in:\n" + run))
                .strip();
    }

    /** The finding line of {@code check}, e.g. "degraded c ssh ...", spaces squeezed. */
    private static String finding(CliRun run, String check) {
        return run.out()
                .lines()
                .map(l -> l.strip().replaceAll(" +", " "))
                .filter(l -> l.matches("(degraded|down) \\S+ " + check + " .*"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + check + " finding in:\n" + run));
    }

    private static void assertFields(JsonNode node, String... names) {
        for (String name : names) {
            assertTrue(node.has(name), () -> "no field '" + name + "' in " + node);
        }
    }
}
