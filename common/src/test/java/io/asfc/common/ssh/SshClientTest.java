package io.asfc.common.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.Secret;
import io.asfc.common.config.SshSettings;
import io.asfc.common.ssh.SshException.Reason;
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
}
