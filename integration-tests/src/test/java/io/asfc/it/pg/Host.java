package io.asfc.it.pg;

import static org.awaitility.Awaitility.await;

import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One host of the proving ground: a network namespace plugged into the {@link Bridge} with its own address, and a
 * PID, UTS and mount namespace whose init is a small reaper ({@link #INIT}) that sets the host name and runs a real
 * OpenSSH {@code sshd}. Everything the test starts on the host is {@code nsenter}ed into all four namespaces, so
 * the host has its own name, process table ({@code /proc}) and network.
 *
 * <p>{@link #crash()} SIGKILLs the init, upon which the kernel kills every process of the host, and takes the link
 * down; {@link #restore()} brings the link up and boots a new init and sshd (the host key survives, as on disk).
 * {@link #stopSshd()} kills its sshd, the listener and every session (what those sessions started and detached, e.g.
 * a scheduler, lives on); {@link #startSshd()} starts it again.
 */
final class Host implements AutoCloseable {

    /** The init of a host: sets the host name, starts sshd, and reaps every orphan, as PID 1 must. */
    private static final String INIT =
            """
            import os, socket, sys, time
            socket.sethostname(sys.argv[1])
            if os.fork() == 0:
                os.execv(sys.argv[2], sys.argv[2:])
            while True:
                try:
                    os.wait()
                except ChildProcessError:
                    time.sleep(0.5)
            """;

    static final String PYTHON = "/usr/bin/python3";
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Path PRIVSEP_DIR = Path.of("/run/sshd");
    private static final String SSH_PORT_HEX = ":0016 ";
    private static final String LISTEN_STATE = " 0A ";

    private final String name;
    private final String address;
    private final String netns;
    private final Path dir;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Process unshare;
    /** The {@code nsenter} of an sshd started by {@link #startSshd()}; null while the init's own sshd serves. */
    private volatile Process sshdLauncher;

    private volatile long initPid = -1;
    private volatile String pidNamespace = "";

    private Host(String name, String address, String netns, Path dir) {
        this.name = name;
        this.address = address;
        this.netns = netns;
        this.dir = dir;
    }

    /** Creates host {@code name} at {@code address}, plugged into {@code bridge}, and boots it. */
    static Host create(Bridge bridge, String prefix, String name, String address, Keys keys, Path dir)
            throws IOException {
        Host host = new Host(name, address, prefix + "-" + name, Files.createDirectories(dir));
        Sh.run("ip", "netns", "add", host.netns);
        try {
            bridge.plug(host.netns, "v-" + name);
            Sh.run("ip", "-n", host.netns, "addr", "add", address + "/" + Bridge.PREFIX_LENGTH, "dev", "eth0");
            Sh.run("ip", "-n", host.netns, "link", "set", "lo", "up");
            Sh.run("ip", "-n", host.netns, "link", "set", "eth0", "up");
            keys.hostKey(dir.resolve("host_key"), address);
            Files.writeString(dir.resolve("init.py"), INIT);
            Files.writeString(dir.resolve("sshd_config"), host.sshdConfig(keys));
            Files.createDirectories(dir.resolve("home"));
            if (!Files.isDirectory(PRIVSEP_DIR)) { // sshd refuses to start without it
                Files.createDirectories(PRIVSEP_DIR);
            }
            host.boot();
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
        return host;
    }

    String name() {
        return name;
    }

    String address() {
        return address;
    }

    Path dir() {
        return dir;
    }

    /** The root-namespace pid of this host's init; its death is the death of every process on the host. */
    long initPid() {
        return initPid;
    }

    /** What {@code /proc/<pid>/ns/pid} links to for every process of this host, e.g. {@code pid:[4026532290]}. */
    String pidNamespace() {
        return pidNamespace;
    }

    boolean isUp() {
        Process p = unshare;
        return p != null && p.isAlive();
    }

    /** The command prefix that runs a program on this host: in its network, PID, mount and UTS namespaces. */
    List<String> enter() {
        return List.of("nsenter", "--target", Long.toString(initPid), "--net", "--pid", "--mount", "--uts", "--");
    }

    /** Runs {@code argv} on this host and waits for it, at most {@code timeout}. */
    CommandResult run(Duration timeout, String... argv) throws IOException, InterruptedException {
        return run(timeout, Map.of(), argv);
    }

    /** Runs {@code argv} on this host with {@code environment} added to this JVM's, at most {@code timeout}. */
    CommandResult run(Duration timeout, Map<String, String> environment, String... argv)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(enter());
        command.addAll(List.of(argv));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(environment);
        return Commands.run(command, dir, env, timeout);
    }

    /**
     * Starts {@code argv} on this host in the background, output appended to {@code out}. Returns the {@code nsenter}
     * process (in the root namespace), whose only child is the program.
     */
    Process launch(List<String> argv, Path out, Map<String, String> environment) throws IOException {
        List<String> command = new ArrayList<>(enter());
        command.addAll(argv);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
        builder.environment().putAll(environment);
        return builder.start();
    }

    /** The root-namespace pid of the process that has pid {@code localPid} on this host. */
    Optional<Long> globalPid(long localPid) throws IOException {
        for (long pid : processes()) {
            if (localPidOf(pid).filter(l -> l == localPid).isPresent()) {
                return Optional.of(pid);
            }
        }
        return Optional.empty();
    }

    /** The root-namespace pids of every process of this host, read from the root's /proc. */
    List<Long> processes() throws IOException {
        List<Long> pids = new ArrayList<>();
        String ours = pidNamespace;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), Host::isPidDirectory)) {
            for (Path d : dirs) {
                if (ours.equals(namespaceOf(d).orElse(""))) {
                    pids.add(Long.parseLong(d.getFileName().toString()));
                }
            }
        }
        return pids;
    }

    /** Runs {@code iptables} (with its lock, {@code -w}) in this host's network namespace. */
    void iptables(String... rule) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + netns, "--", "iptables", "-w"));
        argv.addAll(List.of(rule));
        Sh.run(argv.toArray(String[]::new));
    }

    /** Removes every iptables rule of this host. */
    void flushIptables() {
        iptables("-F", "INPUT");
        iptables("-F", "OUTPUT");
    }

    void linkDown() {
        Sh.run("ip", "-n", netns, "link", "set", "eth0", "down");
    }

    void linkUp() {
        Sh.run("ip", "-n", netns, "link", "set", "eth0", "up");
    }

    /** Host crash: every process of the host is killed at once (SIGKILL to its init), and its link goes down. */
    void crash() throws InterruptedException {
        killInit();
        linkDown();
    }

    /** Brings a crashed host back: its link up, a new init and sshd. */
    void restore() throws IOException {
        linkUp();
        boot();
    }

    /** Whether this host's sshd listens on port 22. */
    boolean sshdListens() {
        return initPid > 0 && listensOnSsh(initPid);
    }

    /**
     * Kills this host's sshd: the listening daemon and its session processes (each an sshd it forked), so that new
     * connections are refused and the connections that clients keep open (an agent reuses one SSH session per host)
     * are cut. The listener is frozen first, so it forks no session that the kill would miss. What the sessions
     * started and detached lives on. Only processes of this host's sshd, which the test started, are signalled.
     * Waits until nothing listens on port 22; returns when the kill was sent (System.nanoTime()).
     */
    long stopSshd() throws IOException {
        long listener =
                sshdListenerPid().orElseThrow(() -> new IllegalStateException(name + "'s sshd does not listen"));
        Path sshd = Path.of(sshd());
        Sh.kill("STOP", listener);
        List<Long> sessions = ProcessHandle.of(listener).stream()
                .flatMap(ProcessHandle::descendants)
                .map(ProcessHandle::pid)
                .filter(pid -> isExecutableOf(pid, sshd))
                .toList();
        long at = System.nanoTime();
        Sh.kill("KILL", listener);
        sessions.forEach(pid -> Sh.attempt("kill", "-KILL", Long.toString(pid))); // one may have ended meanwhile
        await(name + "'s sshd to stop listening on port 22")
                .atMost(EXIT_TIMEOUT)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !sshdListens());
        return at;
    }

    /** Starts sshd on this host again, after {@link #stopSshd()}, and waits until it listens on port 22. */
    void startSshd() throws IOException {
        if (sshdListens()) {
            return;
        }
        Process old = sshdLauncher;
        if (old != null) {
            old.destroyForcibly(); // an nsenter whose sshd is gone; it exits by itself anyway
        }
        Process launched = launch(sshdArgv(), dir.resolve("host.log"), Map.of());
        sshdLauncher = launched;
        await(name + "'s sshd to listen on port 22 again")
                .atMost(BOOT_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .failFast(name + "'s new sshd exited; see " + dir.resolve("host.log"), () -> !launched.isAlive())
                .until(this::sshdListens);
    }

    /**
     * The root-namespace pid of the process that holds this host's listening socket on port 22: found by the
     * socket's inode, so neither a session's sshd nor anything else of the host can be mistaken for it.
     */
    private Optional<Long> sshdListenerPid() throws IOException {
        Optional<String> inode = listeningSshInode(initPid);
        if (inode.isEmpty()) {
            return Optional.empty();
        }
        String socket = "socket:[" + inode.get() + "]";
        for (long pid : processes()) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path fd : fds) {
                    try {
                        if (Files.readSymbolicLink(fd).toString().equals(socket)) {
                            return Optional.of(pid);
                        }
                    } catch (IOException e) {
                        // closed while being read
                    }
                }
            } catch (IOException e) {
                // the process ended while it was being read
            }
        }
        return Optional.empty();
    }

    private static boolean isExecutableOf(long pid, Path executable) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe"))
                    .equals(executable);
        } catch (IOException e) {
            return false; // gone
        }
    }

    /** The inode of the socket listening on port 22 in the network namespace of {@code pid}, if any. */
    private static Optional<String> listeningSshInode(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "tcp"))) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                if (f.length > 9 && f[1].endsWith(SSH_PORT_HEX.trim()) && f[3].equals(LISTEN_STATE.trim())) {
                    return Optional.of(f[9]);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // gone
        }
    }

    /** Starts the init and sshd, and waits until sshd listens on port 22. */
    private void boot() throws IOException {
        List<String> argv = new ArrayList<>(List.of(
                "nsenter",
                "--net=/run/netns/" + netns,
                "--",
                "unshare",
                "--pid",
                "--uts",
                "--mount",
                "--fork",
                "--mount-proc",
                "--kill-child",
                "--",
                PYTHON,
                dir.resolve("init.py").toString(),
                name));
        argv.addAll(sshdArgv());
        Process started = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(
                        ProcessBuilder.Redirect.appendTo(dir.resolve("host.log").toFile()))
                .start();
        unshare = started;
        sshdLauncher = null;
        await(name + "'s init to start and its sshd to listen on port 22")
                .atMost(BOOT_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .failFast(name + "'s unshare exited; see " + dir.resolve("host.log"), () -> !started.isAlive())
                .until(() -> {
                    Optional<ProcessHandle> init = started.children().findFirst();
                    return init.isPresent() && listensOnSsh(init.get().pid());
                });
        initPid = started.children().findFirst().orElseThrow().pid();
        pidNamespace = namespaceOf(Path.of("/proc", Long.toString(initPid)))
                .orElseThrow(() -> new IllegalStateException(name + "'s init is gone"));
    }

    private void killInit() throws InterruptedException {
        Process p = unshare;
        if (p == null) {
            return;
        }
        if (initPid > 0 && ProcessHandle.of(initPid).isPresent()) {
            Sh.attempt("kill", "-KILL", Long.toString(initPid));
        }
        // unshare --kill-child exits once its child is gone.
        if (!p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Whether the network namespace of {@code pid} has a socket listening on port 22. */
    private static boolean listensOnSsh(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "tcp")).stream()
                    .anyMatch(line -> line.contains(SSH_PORT_HEX)
                            && line.contains(LISTEN_STATE)
                            && line.indexOf(SSH_PORT_HEX) < line.indexOf(LISTEN_STATE));
        } catch (IOException e) {
            return false; // the init is still starting, or gone
        }
    }

    private List<String> sshdArgv() {
        return List.of(sshd(), "-D", "-e", "-f", dir.resolve("sshd_config").toString());
    }

    private String sshdConfig(Keys keys) {
        return """
                # Host %s of the asfc proving ground; /etc/ssh is not read.
                ListenAddress 0.0.0.0
                Port 22
                HostKey %s
                PidFile none
                AuthorizedKeysFile %s
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                PermitRootLogin prohibit-password
                StrictModes no
                PrintMotd no
                MaxStartups 100
                LogLevel INFO
                # root's real ~/.bashrc (which bash sources for ssh commands) is not part of the test.
                SetEnv HOME=%s
                """
                .formatted(name, dir.resolve("host_key"), keys.authorizedKeys(), dir.resolve("home"));
    }

    private static String sshd() {
        for (String candidate : List.of("/usr/sbin/sshd", "/usr/bin/sshd")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IllegalStateException("sshd not installed: apt-get install openssh-server");
    }

    /** The pid of {@code pid} in the innermost PID namespace it belongs to (the last field of NSpid). */
    static Optional<Long> localPidOf(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("NSpid:")) {
                    String[] f = line.substring("NSpid:".length()).trim().split("\\s+");
                    return Optional.of(Long.parseLong(f[f.length - 1]));
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the process ended while it was being read
        }
    }

    static Optional<String> namespaceOf(Path procDir) {
        try {
            return Optional.of(Files.readSymbolicLink(procDir.resolve("ns/pid")).toString());
        } catch (IOException e) {
            return Optional.empty(); // gone, or a zombie
        }
    }

    private static boolean isPidDirectory(Path path) {
        String n = path.getFileName().toString();
        return !n.isEmpty() && n.chars().allMatch(Character::isDigit);
    }

    /** Kills every process of the host and deletes its network namespace (and so its veth pair and rules). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            killInit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Process launcher = sshdLauncher;
            if (launcher != null) {
                launcher.destroyForcibly(); // its sshd died with the init; the nsenter ends with it anyway
            }
            Sh.attempt("ip", "netns", "del", netns);
        }
    }

    @Override
    public String toString() {
        return name + " (" + address + ")";
    }
}
