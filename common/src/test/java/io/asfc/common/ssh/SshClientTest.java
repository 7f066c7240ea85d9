package io.asfc.common.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.Secret;
import io.asfc.common.config.SshSettings;
import io.asfc.common.ssh.SshException.Reason;
import io.asfc.common.ssh.SshPhases.Phase;
import io.asfc.common.testing.HungServer;
import io.asfc.common.testing.Sshd;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SshClient} against a real OpenSSH sshd on a loopback port. */
class SshClientTest {
    /** A guard against a hang, far above every bound under test; not a speed assertion. */
    private static final Duration HANG_GUARD = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    private static Sshd sshd;

    @BeforeAll
    static void startSshd() throws Exception {
        Sshd.assumeAvailable();
        sshd = Sshd.start(dir.resolve("sshd"));
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.close();
        }
    }

    private static SshSettings settings(Path key, Path knownHosts, HostKeyChecking mode) {
        return new SshSettings(
                true,
                sshd.user(),
                22,
                List.of(key),
                Secret.empty(),
                knownHosts,
                mode,
                Duration.ofSeconds(1),
                Duration.ofSeconds(2),
                Duration.ofSeconds(5),
                Map.of());
    }

    private static SshTarget target(int port) {
        return new SshTarget("n", "127.0.0.1", sshd.user(), port);
    }

    @Test
    void keyAuthenticationRunsACommandAndReusesTheSession() throws Exception {
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES))) {
            ExecResult first = ssh.exec(target(sshd.port()), "echo \"$SSH_CONNECTION\"; cat", "in".getBytes());
            ExecResult second = ssh.exec(target(sshd.port()), "echo \"$SSH_CONNECTION\"; exit 7", null);
            assertEquals(0, first.exitCode(), first.stderr());
            assertTrue(first.out().endsWith("in"), "stdin reaches the command: " + first.out());
            assertEquals(7, second.exitCode());
            // Same client port: one session, two channels.
            assertEquals(first.out().lines().findFirst(), second.out().lines().findFirst());
        }
    }

    @Test
    void hostKeyMismatchIsRefused() throws Exception {
        Path wrong = sshd.writeKnownHostsWithWrongKey(dir.resolve("wrong_known_hosts"));
        for (HostKeyChecking mode : List.of(HostKeyChecking.YES, HostKeyChecking.ACCEPT_NEW)) {
            try (SshClient ssh = new SshClient(settings(sshd.clientKey(), wrong, mode))) {
                SshException e = assertThrows(SshException.class, () -> ssh.exec(target(sshd.port()), "true", null));
                assertEquals(Reason.HOST_KEY_MISMATCH, e.reason(), e.getMessage());
                assertTrue(e.getMessage().startsWith("host key mismatch"), e.getMessage());
            }
        }
    }

    @Test
    void unknownHostKeyIsRefusedUnderYesAndPinnedUnderAcceptNew() throws Exception {
        Path empty = dir.resolve("empty_known_hosts");
        Files.writeString(empty, "");
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), empty, HostKeyChecking.YES))) {
            SshException e = assertThrows(SshException.class, () -> ssh.exec(target(sshd.port()), "true", null));
            assertEquals(Reason.HOST_KEY_UNKNOWN, e.reason(), e.getMessage());
        }
        Path pinned = dir.resolve("pinned/known_hosts");
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), pinned, HostKeyChecking.ACCEPT_NEW))) {
            assertEquals(0, ssh.exec(target(sshd.port()), "true", null).exitCode());
        }
        assertTrue(Files.readString(pinned).contains("[127.0.0.1]:" + sshd.port()), "the key was pinned");
        // Now pinned, it is verified like any known key.
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), pinned, HostKeyChecking.YES))) {
            assertEquals(0, ssh.exec(target(sshd.port()), "true", null).exitCode());
        }
    }

    @Test
    void noCheckingAcceptsAnyKey() throws Exception {
        Path wrong = sshd.writeKnownHostsWithWrongKey(dir.resolve("wrong_known_hosts_2"));
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), wrong, HostKeyChecking.NO))) {
            assertEquals(0, ssh.exec(target(sshd.port()), "true", null).exitCode());
        }
    }

    @Test
    void aKeyThatIsNotAuthorizedIsRefused() throws Exception {
        Path other = sshd.generateOtherClientKey();
        try (SshClient ssh = new SshClient(settings(other, sshd.knownHosts(), HostKeyChecking.YES))) {
            SshException e = assertThrows(SshException.class, () -> ssh.exec(target(sshd.port()), "true", null));
            assertEquals(Reason.AUTH_FAILED, e.reason(), e.getMessage());
        }
    }

    @Test
    void aServerThatAcceptsTcpButNeverSpeaksTimesOutWithinTheConnectTimeout() throws Exception {
        try (HungServer hung = Sshd.hungServer();
                SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES))) {
            SshException e = assertTimeoutPreemptively(
                    HANG_GUARD,
                    () -> assertThrows(SshException.class, () -> ssh.exec(target(hung.port()), "true", null)));
            assertEquals(Reason.TIMED_OUT, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith("timed out after 1s"), e.getMessage());
        }
    }

    @Test
    void aClosedPortIsConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES))) {
            SshException e = assertThrows(SshException.class, () -> ssh.exec(target(port), "true", null));
            assertEquals(Reason.CONNECTION_REFUSED, e.reason(), e.getMessage());
        }
    }

    @Test
    void aHungCommandTimesOutAndTheNextCallReconnects() throws Exception {
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES))) {
            SshException e = assertTimeoutPreemptively(
                    HANG_GUARD,
                    () -> assertThrows(
                            SshException.class,
                            () -> ssh.exec(target(sshd.port()), "sleep 20", null, Duration.ofMillis(500))));
            assertEquals(Reason.TIMED_OUT, e.reason(), e.getMessage());
            assertEquals(0, ssh.exec(target(sshd.port()), "true", null).exitCode());
        }
    }

    @Test
    void timedProbeTimesEveryPhaseOfAGoodHost() throws Exception {
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES))) {
            SshPhases phases = ssh.timedProbe(target(sshd.port()), "true");

            assertTrue(phases.ok(), phases::toString);
            assertEquals(List.of(Phase.values()), List.copyOf(phases.took().keySet()), phases::toString);
            assertEquals("ok", phases.verdict(Duration.ofMinutes(1)), phases::toString);
        }
    }

    @Test
    void timedProbeNamesTheFailedPhase() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path otherKey = sshd.generateOtherClientKey();
        try (SshClient ssh = new SshClient(settings(sshd.clientKey(), sshd.knownHosts(), HostKeyChecking.YES));
                SshClient stranger = new SshClient(settings(otherKey, sshd.knownHosts(), HostKeyChecking.YES))) {
            SshPhases refused = ssh.timedProbe(target(closed), "true");
            SshPhases unauthorized = stranger.timedProbe(target(sshd.port()), "true");
            SshPhases failing = ssh.timedProbe(target(sshd.port()), "exit 3");

            assertEquals(Phase.CONNECT, refused.failedIn(), refused::toString);
            assertEquals(Reason.CONNECTION_REFUSED, refused.failure().reason());
            assertEquals(Phase.AUTHENTICATE, unauthorized.failedIn(), unauthorized::toString);
            assertEquals(Reason.AUTH_FAILED, unauthorized.failure().reason());
            assertEquals(Phase.COMMAND, failing.failedIn(), failing::toString);
            assertEquals(Reason.COMMAND_FAILED, failing.failure().reason());
        }
    }

    /**
     * The incident of issue 17: a remote ~/.bashrc that waits (pyenv init on a stale lock) made every
     * command time out while login itself was quick. It must be named, not called unreachable.
     */
    @Test
    void aSlowRemoteShellStartIsNamedAsSuchNotAsUnreachable() throws Exception {
        try (Sshd slow = Sshd.start(dir.resolve("slow-shell"))) {
            Files.writeString(slow.home().resolve(".bashrc"), "sleep 3\n");
            SshSettings timesOut = settingsFor(slow, Duration.ofSeconds(1));
            SshSettings fits = settingsFor(slow, Duration.ofSeconds(6));
            SshTarget target = new SshTarget("n", "127.0.0.1", slow.user(), slow.port());
            SshPhases timedOut;
            SshPhases slowButOk;
            try (SshClient ssh = new SshClient(timesOut)) {
                timedOut = ssh.timedProbe(target, "true");
            }
            try (SshClient ssh = new SshClient(fits)) {
                slowButOk = ssh.timedProbe(target, "true");
            }

            assertEquals(Phase.SHELL_START, timedOut.failedIn(), timedOut::toString);
            assertEquals(Reason.TIMED_OUT, timedOut.failure().reason(), timedOut::toString);
            assertTrue(timedOut.slowShell(timesOut.commandTimeout()), timedOut::toString);
            assertTrue(
                    timedOut.verdict(timesOut.commandTimeout()).startsWith("the remote shell start timed out after"),
                    timedOut.verdict(timesOut.commandTimeout()));
            assertTrue(slowButOk.ok(), slowButOk::toString);
            assertEquals(Phase.SHELL_START, slowButOk.slowest(), slowButOk::toString);
            assertTrue(slowButOk.slowShell(fits.commandTimeout()), slowButOk::toString);
            assertTrue(slowButOk.verdict(fits.commandTimeout()).contains("~/.bashrc"), slowButOk::toString);
        }
    }

    private static SshSettings settingsFor(Sshd server, Duration commandTimeout) {
        return new SshSettings(
                true,
                server.user(),
                22,
                List.of(server.clientKey()),
                Secret.empty(),
                server.knownHosts(),
                HostKeyChecking.YES,
                Duration.ofSeconds(5),
                commandTimeout,
                Duration.ofSeconds(5),
                Map.of());
    }
}
