package io.asfc.common.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshdTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @BeforeEach
    void requireOpenSsh() {
        Sshd.assumeAvailable();
        if (OpenSsh.binary("ssh").isEmpty()) {
            OpenSsh.unavailable("ssh not installed: apt-get install openssh-client");
        }
    }

    @Test
    void sshLogsInWithTheClientKeyAndTrustsTheKnownHosts() throws Exception {
        try (Sshd sshd = Sshd.start(dir)) {
            Result result = ssh(sshd, sshd.clientKey(), sshd.knownHosts(), "true");

            assertEquals(0, result.exit(), result::describe);
            await().atMost(TIMEOUT)
                    .until(() -> Files.readString(sshd.log()).contains("Accepted publickey for " + sshd.user()));
        }
    }

    @Test
    void sshRefusesAHostWhoseKeyKnownHostsDoesNotList() throws Exception {
        try (Sshd sshd = Sshd.start(dir)) {
            Path wrong = sshd.writeKnownHostsWithWrongKey(dir.resolve("wrong_known_hosts"));

            Result result = ssh(sshd, sshd.clientKey(), wrong, "true");

            assertEquals(255, result.exit(), result::describe);
            assertTrue(result.output().contains("Host key verification failed"), result::describe);
        }
    }

    @Test
    void sshdRefusesAKeyThatIsNotAuthorized() throws Exception {
        try (Sshd sshd = Sshd.start(dir)) {
            Result result = ssh(sshd, sshd.generateOtherClientKey(), sshd.knownHosts(), "true");

            assertEquals(255, result.exit(), result::describe);
            assertTrue(result.output().contains("Permission denied (publickey)"), result::describe);
        }
    }

    @Test
    void jschReadsTheKnownHostsAndTheClientKey() throws Exception {
        try (Sshd sshd = Sshd.start(dir)) {
            Session session = jschSession(sshd, sshd.knownHosts());
            session.connect((int) TIMEOUT.toMillis());
            try {
                ChannelExec exec = (ChannelExec) session.openChannel("exec");
                exec.setCommand("exit 7");
                exec.connect((int) TIMEOUT.toMillis());
                await().atMost(TIMEOUT).until(exec::isClosed);
                assertEquals(7, exec.getExitStatus());
            } finally {
                session.disconnect();
            }

            Session wrong = jschSession(sshd, sshd.writeKnownHostsWithWrongKey(dir.resolve("wrong_known_hosts")));
            JSchException e = assertThrows(JSchException.class, () -> wrong.connect((int) TIMEOUT.toMillis()));
            assertTrue(e.getMessage().contains("HostKey has been changed"), e.getMessage());
        }
    }

    @Test
    void aShellInItsOwnPidNamespaceSeesOnlyThatHostsProcesses() throws Exception {
        Sshd.assumeNamespacesAvailable();
        try (Sshd sshd = Sshd.startInOwnPidNamespace(dir)) {
            sshd.runInside("sleep", "86399");
            await().atMost(TIMEOUT).until(() -> hasCommand(sshd.processes(), "sleep 86399"));

            Result listing = ssh(sshd, sshd.clientKey(), sshd.knownHosts(), "ls /proc");
            Result commands = ssh(
                    sshd,
                    sshd.clientKey(),
                    sshd.knownHosts(),
                    "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done");

            assertEquals(0, listing.exit(), listing::describe);
            List<String> pids =
                    listing.output().lines().filter(l -> l.matches("\\d+")).toList();
            assertTrue(pids.contains("1"), listing::describe);
            assertTrue(pids.size() <= 10, () -> "more than a handful of processes: " + pids);
            assertTrue(ProcessTable.snapshot().all().size() > pids.size(), "the machine has more");
            assertEquals(0, commands.exit(), commands::describe);
            assertTrue(commands.output().lines().anyMatch(l -> l.strip().equals("sleep 86399")), commands::describe);
        }
    }

    @Test
    void closeStopsSshdAndWhatItsSessionsLeftRunning() throws Exception {
        try (Sshd sshd = Sshd.start(dir)) {
            Result detached = ssh(sshd, sshd.clientKey(), sshd.knownHosts(), "nohup sleep 86398 >/dev/null 2>&1 &");
            assertEquals(0, detached.exit(), detached::describe);
            await().atMost(TIMEOUT).until(() -> hasCommand(sshd.processes(), "sleep 86398"));
            List<ProcessInfo> before = sshd.processes();
            assertTrue(before.stream().anyMatch(p -> p.pid() == sshd.pid()), before::toString);

            sshd.close(); // and again, harmlessly, at the end of the block

            assertEquals(List.of(), before.stream().filter(TreeStopper::isAlive).toList());
        }
    }

    @Test
    void closeOfANamespaceEndsEveryProcessInIt() throws Exception {
        Sshd.assumeNamespacesAvailable();
        try (Sshd sshd = Sshd.startInOwnPidNamespace(dir)) {
            Process sleeper = sshd.runInside("sleep", "86397");
            Result detached = ssh(sshd, sshd.clientKey(), sshd.knownHosts(), "nohup sleep 86396 >/dev/null 2>&1 &");
            assertEquals(0, detached.exit(), detached::describe);
            await().atMost(TIMEOUT)
                    .until(() ->
                            hasCommand(sshd.processes(), "sleep 86397") && hasCommand(sshd.processes(), "sleep 86396"));
            List<ProcessInfo> before = sshd.processes();
            assertTrue(before.stream().anyMatch(p -> p.pid() == sshd.namespacePid()), before::toString);

            sshd.close();

            assertEquals(List.of(), before.stream().filter(TreeStopper::isAlive).toList());
            assertEquals(List.of(), sshd.processes());
            assertFalse(sleeper.isAlive(), "nsenter of the sleeper");
        }
    }

    @Test
    void hungServerAcceptsButNeverSendsAByte() throws Exception {
        try (HungServer hung = Sshd.hungServer();
                Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", hung.port()), (int) TIMEOUT.toMillis());
            socket.setSoTimeout(500);
            await().atMost(TIMEOUT).until(() -> hung.accepted() == 1);

            assertThrows(
                    SocketTimeoutException.class, () -> socket.getInputStream().read());
        }
    }

    private static boolean hasCommand(List<ProcessInfo> processes, String cmdline) {
        return processes.stream().anyMatch(p -> p.cmdline().equals(cmdline));
    }

    private static Session jschSession(Sshd sshd, Path knownHosts) throws JSchException {
        JSch jsch = new JSch();
        jsch.addIdentity(sshd.clientKey().toString());
        jsch.setKnownHosts(knownHosts.toString());
        Session session = jsch.getSession(sshd.user(), "127.0.0.1", sshd.port());
        session.setConfig("StrictHostKeyChecking", "yes");
        return session;
    }

    /** Runs the OpenSSH client against {@code sshd}, reading no configuration of this machine. */
    private Result ssh(Sshd sshd, Path key, Path knownHosts, String command) throws Exception {
        List<String> argv = List.of(
                "ssh",
                "-F",
                "/dev/null",
                "-i",
                key.toString(),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "UserKnownHostsFile=" + knownHosts,
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "-p",
                Integer.toString(sshd.port()),
                sshd.user() + "@127.0.0.1",
                command);
        Path output = Files.createTempFile(dir, "ssh-", ".out");
        Process process = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("ssh did not finish within " + TIMEOUT + ": " + Files.readString(output));
        }
        return new Result(String.join(" ", argv), process.exitValue(), Files.readString(output));
    }

    private record Result(String command, int exit, String output) {
        String describe() {
            return command + " exited with " + exit + ":\n" + output;
        }
    }
}
