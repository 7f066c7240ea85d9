package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives the unpacked binary distribution through {@code bin/asfc-agent}, as an operator would: start, status,
 * stop, and plain command-line calls. The agent runs against the shipped config, which uses an embedded
 * single-node ZooKeeper, moved to a free port.
 */
class DistributionIT {

    /** Bounds {@code start} (which itself waits up to ASFC_START_TIMEOUT=60 s) and {@code stop}. */
    private static final Duration DAEMON_COMMAND_TIMEOUT = Duration.ofMinutes(2);

    private static final Duration CLI_COMMAND_TIMEOUT = Duration.ofMinutes(1);

    @TempDir
    Path tempDir;

    private Distribution dist;
    private int zooKeeperPort;

    /** Every agent pid seen in this test, so that cleanup finds the agent even if the pid file is gone. */
    private final Set<Long> agentPids = new HashSet<>();

    @BeforeEach
    void unpackDistribution() throws Exception {
        dist = Distribution.unpack(tempDir);
        zooKeeperPort = Network.freePort();
        dist.appendConfig("asfc.zookeeper.embedded.port = " + zooKeeperPort);
    }

    @AfterEach
    void stopAnyAgentLeftRunning() throws Exception {
        if (dist == null) {
            return;
        }
        dist.recordedPid().ifPresent(agentPids::add);
        if (agentPids.stream().noneMatch(Processes::isAlive)) {
            return;
        }
        try {
            dist.run(DAEMON_COMMAND_TIMEOUT, "stop");
        } finally {
            for (long pid : agentPids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                await("agent pid " + pid + " to end")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> !Processes.isAlive(pid));
            }
        }
    }

    @Test
    void startRunsTheAgentAndItsEmbeddedZooKeeper() throws Exception {
        long pid = startAgent();

        CommandResult status = dist.run(CLI_COMMAND_TIMEOUT, "status");
        assertEquals(0, status.exitCode(), () -> diagnostics(status));
        assertTrue(status.stdout().contains("is running (pid " + pid + ")"), () -> diagnostics(status));

        String srvr = Network.fourLetterWord(zooKeeperPort, "srvr");
        assertTrue(
                srvr.contains("Zookeeper version"),
                () -> "srvr on 127.0.0.1:" + zooKeeperPort + " answered:\n" + srvr + "\n" + dist.logTails());
    }

    @Test
    void secondStartIsRefusedWhileRunning() throws Exception {
        long pid = startAgent();

        CommandResult second = dist.run(DAEMON_COMMAND_TIMEOUT, "start");
        assertNotEquals(0, second.exitCode(), () -> diagnostics(second));
        assertTrue(second.stderr().contains("already running (pid " + pid + ")"), () -> diagnostics(second));
        assertEquals(Optional.of(pid), dist.recordedPid(), () -> "pid file changed\n" + diagnostics(second));
        assertTrue(Processes.isAlive(pid), () -> "the first agent died\n" + diagnostics(second));
    }

    @Test
    void stopEndsTheAgentBeforeReturningAndIsIdempotent() throws Exception {
        long pid = startAgent();

        CommandResult stop = dist.run(DAEMON_COMMAND_TIMEOUT, "stop");
        assertEquals(0, stop.exitCode(), () -> diagnostics(stop));
        assertTrue(stop.stdout().contains("stopped (pid " + pid + ")"), () -> diagnostics(stop));
        assertFalse(
                Processes.isAlive(pid), () -> "agent pid " + pid + " is still alive after stop\n" + diagnostics(stop));
        assertFalse(Files.exists(dist.pidFile()), () -> "stop left the pid file\n" + diagnostics(stop));

        CommandResult status = dist.run(CLI_COMMAND_TIMEOUT, "status");
        assertEquals(3, status.exitCode(), () -> diagnostics(status));

        CommandResult secondStop = dist.run(DAEMON_COMMAND_TIMEOUT, "stop");
        assertEquals(0, secondStop.exitCode(), () -> diagnostics(secondStop));
        assertTrue(secondStop.stdout().contains("is not running"), () -> diagnostics(secondStop));
    }

    @Test
    void statusReportsStalePidFileAndStopClearsIt() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        assertEquals(0, exited.waitFor());
        Files.createDirectories(dist.pidDir());
        Files.writeString(dist.pidFile(), exited.pid() + "\n", StandardCharsets.UTF_8);

        CommandResult status = dist.run(CLI_COMMAND_TIMEOUT, "status");
        assertEquals(1, status.exitCode(), () -> diagnostics(status));
        assertTrue(status.stdout().contains("pid file " + dist.pidFile() + " exists"), () -> diagnostics(status));

        CommandResult stop = dist.run(DAEMON_COMMAND_TIMEOUT, "stop");
        assertEquals(0, stop.exitCode(), () -> diagnostics(stop));
        assertFalse(Files.exists(dist.pidFile()), () -> "stop left the stale pid file\n" + diagnostics(stop));

        CommandResult after = dist.run(CLI_COMMAND_TIMEOUT, "status");
        assertEquals(3, after.exitCode(), () -> diagnostics(after));
    }

    @Test
    void noArgumentsIsAUsageError() throws Exception {
        CommandResult result = dist.run(CLI_COMMAND_TIMEOUT);
        assertEquals(2, result.exitCode(), () -> diagnostics(result));
        assertTrue(result.stderr().contains("Usage"), () -> diagnostics(result));
    }

    @Test
    void unknownCommandIsAUsageError() throws Exception {
        CommandResult result = dist.run(CLI_COMMAND_TIMEOUT, "no-such-command");
        assertEquals(2, result.exitCode(), () -> diagnostics(result));
    }

    @Test
    void versionPrintsTheProjectVersion() throws Exception {
        CommandResult result = dist.run(CLI_COMMAND_TIMEOUT, "version");
        assertEquals(0, result.exitCode(), () -> diagnostics(result));
        assertTrue(result.stdout().contains(dist.version()), () -> diagnostics(result));
    }

    @Test
    void startExits69AndLeavesNoAgentWhenZooKeeperCannotBeReached() throws Exception {
        dist.appendConfig("asfc.zookeeper.connect = \"127.0.0.1:" + Network.freePort() + "\"");

        CommandResult start = dist.run(Map.of("ASFC_START_TIMEOUT", "5"), DAEMON_COMMAND_TIMEOUT, "start");
        dist.recordedPid().ifPresent(agentPids::add);

        assertEquals(69, start.exitCode(), () -> diagnostics(start));
        assertTrue(start.stderr().contains("could not reach ZooKeeper"), () -> diagnostics(start));
        assertFalse(Files.exists(dist.pidFile()), () -> "start left a pid file\n" + diagnostics(start));
        CommandResult status = dist.run(CLI_COMMAND_TIMEOUT, "status");
        assertEquals(3, status.exitCode(), () -> diagnostics(status));
    }

    @Test
    void startNoWaitLeavesTheAgentTryingAndExits0() throws Exception {
        dist.appendConfig("asfc.zookeeper.connect = \"127.0.0.1:" + Network.freePort() + "\"");

        CommandResult start = dist.run(Map.of("ASFC_START_TIMEOUT", "3"), DAEMON_COMMAND_TIMEOUT, "start", "--no-wait");
        dist.recordedPid().ifPresent(agentPids::add);

        assertEquals(0, start.exitCode(), () -> diagnostics(start));
        assertTrue(start.stdout().contains("keeps trying to reach ZooKeeper"), () -> diagnostics(start));
        long pid = dist.recordedPid().orElseThrow(() -> new AssertionError("no pid file\n" + diagnostics(start)));
        assertTrue(Processes.isAlive(pid), () -> "agent pid " + pid + " is not alive\n" + diagnostics(start));
    }

    /** Runs {@code start}, checks that it reported a ready agent, and returns the agent's pid. */
    private long startAgent() throws Exception {
        CommandResult start = dist.run(DAEMON_COMMAND_TIMEOUT, "start");
        dist.recordedPid().ifPresent(agentPids::add);
        assertEquals(0, start.exitCode(), () -> diagnostics(start));
        assertTrue(start.stdout().contains("asfc-agent started (pid"), () -> diagnostics(start));
        long pid = dist.recordedPid().orElseThrow(() -> new AssertionError("no pid file\n" + diagnostics(start)));
        assertTrue(Processes.isAlive(pid), () -> "agent pid " + pid + " is not alive\n" + diagnostics(start));
        return pid;
    }

    private String diagnostics(CommandResult result) {
        return result.describe() + dist.logTails();
    }
}
