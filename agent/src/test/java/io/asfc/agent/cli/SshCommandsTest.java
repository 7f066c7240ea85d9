package io.asfc.agent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.testing.HungServer;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code test-connection} and the cluster-wide {@code is-scheduler-running}, against real sshd hosts. */
class SshCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final Deque<AutoCloseable> closing = new ArrayDeque<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void testConnectionTellsAGoodHostAChangedKeyAndAHungServerApart() throws Exception {
        Sshd.assumeAvailable();
        Sshd good = track(Sshd.start(dir.resolve("good")));
        Sshd changed = track(Sshd.start(dir.resolve("changed")));
        HungServer hung = track(HungServer.start());
        // changed's entry holds a key it no longer has, as after a reinstall
        Path wrong = changed.writeKnownHostsWithWrongKey(dir.resolve("wrong_known_hosts"));
        Files.writeString(dir.resolve("known_hosts"), good.hostKeyLine() + "\n" + Files.readString(wrong));
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("good", good.port());
        ports.put("changed", changed.port());
        ports.put("hung", hung.port());
        Path conf = conf(ports, "asfc.zookeeper.connect = \"127.0.0.1:2181\"\n", good, changed);

        CliRun all = CliRun.of("--conf", conf.toString(), "test-connection");
        CliRun one = CliRun.of("--conf", conf.toString(), "test-connection", "good");

        assertEquals(1, all.exitCode(), all::toString);
        assertTrue(
                row(all, "good")
                        .matches("good +\\w+@127\\.0\\.0\\.1:\\d+ +yes +ok +ok +ok +ok +ok \\[connect=\\d+ms"
                                + " authenticate=\\d+ms remote-shell-start=\\d+ms command=\\d+ms]"),
                all::toString);
        assertTrue(row(all, "changed").contains("MISMATCH"), all::toString);
        assertTrue(row(all, "changed").contains("host key mismatch"), all::toString);
        assertTrue(row(all, "hung").contains("timed out after 2s"), all::toString);
        assertEquals(0, one.exitCode(), one::toString);
    }

    /**
     * Issue 17: a remote ~/.bashrc that waits (seen: pyenv init on a stale lock) made every SSH stop
     * time out while login took 0.3 s. test-connection must name the slow remote shell, not call the
     * host unreachable, whether the shell start fits in ssh.command-timeout or not.
     */
    @Test
    void testConnectionNamesASlowRemoteShellStartInsteadOfUnreachable() throws Exception {
        Sshd.assumeAvailable();
        Sshd slow = track(Sshd.start(dir.resolve("slow")));
        Files.writeString(slow.home().resolve(".bashrc"), "sleep 3\n");
        Files.writeString(dir.resolve("known_hosts"), slow.hostKeyLine() + "\n");
        Path fits = conf(
                Map.of("slow", slow.port()),
                "asfc.ssh.command-timeout = 5s\nasfc.zookeeper.connect = \"127.0.0.1:2181\"\n",
                slow);
        CliRun slowButOk = CliRun.of("--conf", fits.toString(), "test-connection");
        Path tooSlow = conf(
                Map.of("slow", slow.port()),
                "asfc.ssh.command-timeout = 1s\nasfc.zookeeper.connect = \"127.0.0.1:2181\"\n",
                slow);
        CliRun timedOut = CliRun.of("--conf", tooSlow.toString(), "test-connection");

        assertEquals(1, slowButOk.exitCode(), slowButOk::toString);
        assertTrue(
                row(slowButOk, "slow")
                        .matches("slow +\\S+ +yes +ok +ok +SLOW +ok +ok, but the remote shell start took .*"),
                slowButOk::toString);
        assertTrue(row(slowButOk, "slow").contains("~/.bashrc"), slowButOk::toString);
        assertEquals(1, timedOut.exitCode(), timedOut::toString);
        assertTrue(
                row(timedOut, "slow").matches("slow +\\S+ +yes +ok +ok +SLOW +- +the remote shell start timed out .*"),
                timedOut::toString);
        assertTrue(
                row(timedOut, "slow").contains("remote-shell-start=")
                        && row(timedOut, "slow").contains("(failed)"),
                timedOut::toString);
    }

    @Test
    void isSchedulerRunningChecksEveryNodeOverSsh() throws Exception {
        Sshd.assumeNamespacesAvailable();
        TestingServer zk = track(new TestingServer(true));
        Sshd a = track(Sshd.startInOwnPidNamespace(dir.resolve("host-a")));
        Sshd b = track(Sshd.startInOwnPidNamespace(dir.resolve("host-b")));
        Files.writeString(dir.resolve("known_hosts"), a.hostKeyLine() + "\n" + b.hostKeyLine() + "\n");
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String zkConf = "asfc.zookeeper.connect = \"" + zk.getConnectString() + "\"\n";
        Map<String, Integer> both = new LinkedHashMap<>();
        both.put("a", a.port());
        both.put("b", b.port());
        Path twoNodes = conf(both, zkConf, a, b);
        Map<String, Integer> withDown = new LinkedHashMap<>(both);
        withDown.put("c", closed);
        Path threeNodes = conf(withDown, zkConf, a, b);
        StandIn standIn = new StandIn(dir);

        CliRun none = CliRun.of("--conf", twoNodes.toString(), "is-scheduler-running");
        a.startByHand(standIn.byHand("a"));
        await().atMost(WAIT).until(() -> !a.processes().stream()
                .filter(p -> p.cmdline().contains(StandIn.SCRIPT.toString()))
                .toList()
                .isEmpty());
        CliRun one = CliRun.of("--conf", twoNodes.toString(), "is-scheduler-running");
        CliRun oneAndDown = CliRun.of("--conf", threeNodes.toString(), "is-scheduler-running");
        b.startByHand(standIn.byHand("b"));
        await().atMost(WAIT).until(() -> !b.processes().stream()
                .filter(p -> p.cmdline().contains(StandIn.SCRIPT.toString()))
                .toList()
                .isEmpty());
        CliRun two = CliRun.of("--conf", twoNodes.toString(), "is-scheduler-running");

        assertEquals(1, none.exitCode(), none::toString);
        assertTrue(row(none, "a").matches("a +not running +checked over SSH"), none::toString);
        assertTrue(none.out().contains("0 node(s) run a scheduler"), none::toString);

        assertEquals(0, one.exitCode(), one::toString);
        assertTrue(row(one, "a").matches("a +running +.*pid \\d+.*"), one::toString);
        assertTrue(row(one, "b").matches("b +not running +checked over SSH"), one::toString);
        assertTrue(one.out().contains("exactly one scheduler runs"), one::toString);

        assertEquals(1, oneAndDown.exitCode(), oneAndDown::toString);
        assertTrue(
                row(oneAndDown, "c").matches("c +unknown +ssh: connection refused.*; no live agent"),
                oneAndDown::toString);
        assertTrue(oneAndDown.out().contains("some nodes could not be checked"), oneAndDown::toString);

        assertEquals(1, two.exitCode(), two::toString);
        assertTrue(row(two, "b").matches("b +running +.*"), two::toString);
        assertTrue(two.out().contains("2 node(s) run a scheduler"), two::toString);
    }

    private <T extends AutoCloseable> T track(T closeable) {
        closing.push(closeable); // closed newest first
        return closeable;
    }

    /** A config whose nodes reach these loopback ports, with the client keys of these hosts. */
    private Path conf(Map<String, Integer> ports, String extra, Sshd... keys) throws Exception {
        StringBuilder hosts = new StringBuilder();
        StringBuilder overrides = new StringBuilder();
        ports.forEach((node, port) -> {
            hosts.append(node).append(" = \"127.0.0.1\", ");
            overrides.append(node).append(" { port = ").append(port).append(" }\n");
        });
        Path conf = dir.resolve("asfc-" + String.join("-", ports.keySet()) + ".conf");
        Files.writeString(
                conf,
                """
                asfc {
                  node.id = %s
                  nodes = [%s]
                  node-hosts { %s }
                  scheduler.process-pattern = "airflow scheduler "
                  ssh {
                    user = "%s"
                    identity-files = [%s]
                    known-hosts = "%s"
                    connect-timeout = 2s
                    command-timeout = 10s
                    hosts { %s }
                  }
                }
                %s
                """
                        .formatted(
                                ports.keySet().iterator().next(),
                                String.join(", ", ports.keySet()),
                                hosts,
                                keys[0].user(),
                                java.util.Arrays.stream(keys)
                                        .map(k -> "\"" + k.clientKey() + "\"")
                                        .collect(java.util.stream.Collectors.joining(", ")),
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
}
