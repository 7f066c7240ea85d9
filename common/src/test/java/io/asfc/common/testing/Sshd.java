package io.asfc.common.testing;

import static org.awaitility.Awaitility.await;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real OpenSSH {@code sshd} on a free loopback port, to test SSH clients against. It lets in
 * {@link #user()} with {@link #clientKey()} and nothing else, and shows a host key that {@link
 * #knownHosts()} lists. Everything lives in the test's directory, and {@code /etc/ssh} is not read.
 *
 * <p>{@link #startInOwnPidNamespace} makes sshd the init of a new PID namespace: a remote shell
 * sees a "host" whose {@code /proc} holds only sshd and what was started through it, and {@link
 * #close()} ends all of that at once, because the kernel kills a namespace whose init dies.
 */
public final class Sshd implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sshd.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);
    /** Set on sshd and, through {@code SetEnv}, on its sessions: finds what they left behind. */
    private static final String MARK = "ASFC_TEST_SSHD";

    private final Path dir;
    private final boolean ownPidNamespace;
    private final Path config;
    private final Path log;
    private final List<Process> inside = new CopyOnWriteArrayList<>();
    private final AtomicInteger extraKeys = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile int port;
    private volatile String hostKey;
    /** sshd itself, or for a namespace, the unshare that forked it. */
    private volatile Process launcher;
    /** sshd, in the root namespace; null until it answers. */
    private volatile ProcessInfo sshd;
    /** e.g. {@code pid:[4026532290]}: what /proc/<pid>/ns/pid links to for processes inside. */
    private volatile String namespace;

    private Sshd(Path dir, boolean ownPidNamespace) {
        this.dir = dir.toAbsolutePath();
        try {
            Files.createDirectories(this.dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        this.ownPidNamespace = ownPidNamespace;
        this.config = this.dir.resolve("sshd_config");
        this.log = this.dir.resolve("sshd.log");
    }

    public static Sshd start(Path dir) throws IOException, InterruptedException {
        return launch(dir, false);
    }

    /** Runs sshd as the init of a new PID namespace (and mount namespace, for its /proc). */
    public static Sshd startInOwnPidNamespace(Path dir) throws IOException, InterruptedException {
        return launch(dir, true);
    }

    public static HungServer hungServer() throws IOException {
        return HungServer.start();
    }

    /** Skips the test (fails it where CI=true) if sshd or ssh-keygen is missing, saying which. */
    public static void assumeAvailable() {
        OpenSsh.missingForSshd().ifPresent(OpenSsh::unavailable);
    }

    /** As {@link #assumeAvailable()}, plus unshare, nsenter and root for {@link #startInOwnPidNamespace}. */
    public static void assumeNamespacesAvailable() throws IOException, InterruptedException {
        assumeAvailable();
        OpenSsh.missingForNamespaces().ifPresent(OpenSsh::unavailable);
    }

    public int port() {
        return port;
    }

    public String user() {
        return System.getProperty("user.name");
    }

    /** The private key that authorized_keys lets in. */
    public Path clientKey() {
        return dir.resolve("client_key");
    }

    /** A known_hosts file that lists only this sshd: {@link #hostKeyLine()}. */
    public Path knownHosts() {
        return dir.resolve("known_hosts");
    }

    /** {@code [127.0.0.1]:<port> ssh-ed25519 <key>}, as OpenSSH and JSch read known_hosts. */
    public String hostKeyLine() {
        return "[127.0.0.1]:" + port + " " + hostKey;
    }

    /**
     * The HOME of every session of this sshd, so a test may give the remote user startup files of its
     * own, e.g. a slow {@code .bashrc} (bash reads it for ssh commands too).
     */
    public Path home() {
        return dir.resolve("home");
    }

    /** sshd's log (its stderr, LogLevel VERBOSE, with its sessions' messages). */
    public Path log() {
        return log;
    }

    /** The pid of sshd, in the root namespace. */
    public long pid() {
        return started().pid();
    }

    /** The pid, in the root namespace, of the namespace's init (sshd): the target for nsenter. */
    public long namespacePid() {
        requireNamespace();
        return pid();
    }

    /** Writes to {@code file} a known_hosts entry for this sshd's address with another host key. */
    public Path writeKnownHostsWithWrongKey(Path file) throws IOException, InterruptedException {
        Path other = OpenSsh.keygen(dir.resolve("other_host_key_" + extraKeys.incrementAndGet()));
        Files.writeString(file, "[127.0.0.1]:" + port + " " + OpenSsh.publicKey(other) + "\n");
        return file;
    }

    /** A fresh private key that authorized_keys does not list. */
    public Path generateOtherClientKey() throws IOException, InterruptedException {
        return OpenSsh.keygen(dir.resolve("other_client_key_" + extraKeys.incrementAndGet()));
    }

    /**
     * Starts {@code command} on this host the way an operator would by hand: over OpenSSH's {@code
     * ssh} with this host's client key, detached with {@code setsid}, output discarded. Returns once
     * ssh has returned; fails if it did not exit 0.
     */
    public void startByHand(String command) throws IOException, InterruptedException {
        Process ssh = new ProcessBuilder(
                        "ssh",
                        "-i",
                        clientKey().toString(),
                        "-o",
                        "BatchMode=yes",
                        "-o",
                        "UserKnownHostsFile=" + knownHosts(),
                        "-p",
                        String.valueOf(port),
                        user() + "@127.0.0.1",
                        "setsid " + command + " </dev/null >/dev/null 2>&1 &")
                .redirectErrorStream(true)
                .start();
        String output = new String(ssh.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (ssh.waitFor() != 0) {
            throw new IOException("ssh to " + this + " exited " + ssh.exitValue() + ": " + output);
        }
    }

    /** Runs {@code command} in the namespace's PID and mount namespaces; {@link #close()} ends it. */
    public Process runInside(String... command) throws IOException {
        requireNamespace();
        if (closed.get()) {
            throw new IllegalStateException("sshd in " + dir + " is closed");
        }
        List<String> argv = new ArrayList<>(
                List.of("nsenter", "--target", Long.toString(namespacePid()), "--pid", "--mount", "--"));
        argv.addAll(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().put(MARK, dir.toString());
        Process process = builder.start();
        inside.add(process);
        return process;
    }

    /**
     * The processes of this "host", zombies excluded: in a namespace, every process in it; otherwise
     * sshd, its descendants, and what its sessions left running (found by the variable {@code
     * ASFC_TEST_SSHD} that sshd sets in every session).
     */
    public List<ProcessInfo> processes() {
        ProcessTable table = ProcessTable.snapshot();
        if (ownPidNamespace) {
            String ours = namespace;
            return table.matching(
                    p -> namespaceOf(p.pid()).filter(n -> n.equals(ours)).isPresent());
        }
        Set<ProcessInfo> result = new LinkedHashSet<>();
        Process first = launcher;
        if (first != null) {
            result.addAll(table.tree(first.pid()));
        }
        result.addAll(table.matching(this::isMarked));
        return List.copyOf(result);
    }

    /**
     * Stops sshd (SIGTERM, SIGKILL after 5 s) and everything it started. In a namespace, sshd is its
     * init, whose death makes the kernel kill every other process in it; unshare and the nsenter
     * processes then end by themselves. Idempotent, and safe after a start that failed halfway.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<ProcessInfo> targets = ownPidNamespace ? namespaceInits() : processes();
        try {
            TreeStopper.Result result = new TreeStopper(System::nanoTime).stop(targets, STOP_TIMEOUT);
            if (!result.stopped()) {
                LOG.warn("sshd in {} left processes behind: {}", dir, result.survivors());
            }
            awaitExit(launcher);
            for (Process process : inside) {
                awaitExit(process);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            targets.stream().filter(TreeStopper::isAlive).forEach(p -> ProcessHandle.of(p.pid())
                    .ifPresent(ProcessHandle::destroyForcibly));
            Optional.ofNullable(launcher).ifPresent(Process::destroyForcibly);
            inside.forEach(Process::destroyForcibly);
            throw new IllegalStateException("interrupted while stopping sshd in " + dir, e);
        }
    }

    private static Sshd launch(Path dir, boolean ownPidNamespace) throws IOException, InterruptedException {
        Sshd server = new Sshd(dir, ownPidNamespace);
        boolean started = false;
        try {
            server.start();
            started = true;
            return server;
        } finally {
            if (!started) {
                server.close();
            }
        }
    }

    private void start() throws IOException, InterruptedException {
        if (dir.toString().matches(".*\\s.*")) {
            throw new IllegalArgumentException("sshd_config cannot hold a path with spaces: " + dir);
        }
        if (!Files.isDirectory(OpenSsh.PRIVSEP_DIR)) { // sshd refuses to start without it
            Files.createDirectories(
                    OpenSsh.PRIVSEP_DIR,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        hostKey = OpenSsh.publicKey(OpenSsh.keygen(dir.resolve("host_key")));
        Files.writeString(dir.resolve("authorized_keys"), OpenSsh.publicKey(OpenSsh.keygen(clientKey())));
        for (int attempt = 1; !launched(attempt); attempt++) {
            LOG.info("sshd in {} lost port {} to another process; trying another", dir, port);
        }
        Files.writeString(knownHosts(), hostKeyLine() + "\n");
        long pid = ownPidNamespace ? namespaceInit() : launcher.pid();
        sshd = ProcessTable.read(pid)
                .orElseThrow(() -> new IllegalStateException("sshd (pid " + pid + ") in " + dir + " is gone"));
        namespace = namespaceOf(pid)
                .orElseThrow(() -> new IllegalStateException("sshd (pid " + pid + ") in " + dir + " is gone"));
        LOG.info("sshd (pid {}) in {} answers on 127.0.0.1:{}", pid, dir, port);
    }

    /** Starts sshd on a free port; false if another process took that port first. */
    private boolean launched(int attempt) throws IOException, InterruptedException {
        port = freePort();
        Files.writeString(config, config());
        List<String> argv = new ArrayList<>();
        if (ownPidNamespace) {
            argv.addAll(List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"));
        }
        argv.addAll(List.of(OpenSsh.sshd(), "-D", "-e", "-f", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put(MARK, dir.toString());
        launcher = builder.start();
        try {
            await("sshd in " + dir + " to answer on port " + port)
                    .atMost(START_TIMEOUT)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> !launcher.isAlive() || answers(port));
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("sshd in " + dir + " did not answer on port " + port + " within "
                    + START_TIMEOUT + "; " + log + ":\n" + Files.readString(log));
        }
        if (launcher.isAlive()) {
            return true;
        }
        String output = Files.readString(log);
        if (attempt < 3 && output.contains("Address already in use")) {
            return false;
        }
        throw new IllegalStateException("sshd in " + dir + " exited with " + launcher.exitValue()
                + " before answering on port " + port + "; " + log + ":\n" + output);
    }

    private String config() throws IOException, InterruptedException {
        StringBuilder text = new StringBuilder();
        text.append("# For one test, by ").append(Sshd.class.getName()).append("; /etc/ssh is not read.\n");
        text.append("ListenAddress 127.0.0.1\n");
        text.append("Port ").append(port).append('\n');
        text.append("HostKey ").append(dir.resolve("host_key")).append('\n');
        text.append("PidFile ").append(dir.resolve("sshd.pid")).append('\n');
        text.append("AuthorizedKeysFile ")
                .append(dir.resolve("authorized_keys"))
                .append('\n');
        text.append("PubkeyAuthentication yes\n");
        text.append("PasswordAuthentication no\n");
        text.append("KbdInteractiveAuthentication no\n");
        text.append("UsePAM no\n");
        text.append("PermitRootLogin prohibit-password\n");
        text.append("StrictModes no\n");
        text.append("PrintMotd no\n");
        text.append("LogLevel VERBOSE\n");
        text.append("Subsystem sftp internal-sftp\n");
        // Sessions get a HOME of their own: the test user's real ~/.bashrc (which bash sources for
        // ssh commands) is not part of the test, and on this machine root's hangs in pyenv init.
        Path home = home();
        Files.createDirectories(home);
        text.append("SetEnv ")
                .append(MARK)
                .append('=')
                .append(dir)
                .append(" HOME=")
                .append(home)
                .append('\n');
        if (OpenSsh.hasPerSourcePenalties()) { // 9.8+ would refuse 127.0.0.1 for a while after a failed login
            text.append("PerSourcePenalties no\n");
        }
        return text.toString();
    }

    private long namespaceInit() {
        List<ProcessInfo> inits = namespaceInits();
        if (inits.size() != 1) {
            throw new IllegalStateException(
                    "unshare (pid " + launcher.pid() + ") for sshd in " + dir + " has children " + inits);
        }
        return inits.get(0).pid();
    }

    /** What unshare forked: the init of the namespace, sshd (none before the fork or after a failure). */
    private List<ProcessInfo> namespaceInits() {
        Process first = launcher;
        if (first == null) {
            return List.of();
        }
        return first.toHandle()
                .children()
                .map(child -> ProcessTable.read(child.pid()))
                .flatMap(Optional::stream)
                .toList();
    }

    /**
     * Waits for a process that should end by itself (unshare when its child died, nsenter when the
     * namespace did), then SIGKILLs it: unshare blocks SIGTERM, and its --kill-child then SIGKILLs
     * the namespace's init.
     */
    private static void awaitExit(Process process) throws InterruptedException {
        if (process != null && !process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        }
    }

    /** Whether an SSH server answers with its banner on {@code port}. */
    private static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            socket.setSoTimeout(2000);
            byte[] banner = socket.getInputStream().readNBytes(7);
            return "SSH-2.0".equals(new String(banner, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false; // not listening yet
        }
    }

    private boolean isMarked(ProcessInfo p) {
        try {
            String environment = new String(
                    Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ")), StandardCharsets.UTF_8);
            return Arrays.asList(environment.split("\0")).contains(MARK + "=" + dir);
        } catch (IOException e) {
            return false; // gone, or not ours to read
        }
    }

    private static Optional<String> namespaceOf(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid"))
                    .toString());
        } catch (IOException e) {
            return Optional.empty(); // gone, or a zombie
        }
    }

    private ProcessInfo started() {
        ProcessInfo p = sshd;
        if (p == null) {
            throw new IllegalStateException("sshd in " + dir + " has not started");
        }
        return p;
    }

    private void requireNamespace() {
        if (!ownPidNamespace) {
            throw new IllegalStateException("sshd in " + dir + " runs in the root PID namespace");
        }
    }
}
