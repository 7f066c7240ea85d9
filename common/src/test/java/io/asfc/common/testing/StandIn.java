package io.asfc.common.testing;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The stand-in scheduler (integration-tests/src/main/standin) as the agents' start command. */
public final class StandIn {
    public static final Path SCRIPT = Path.of(System.getProperty("user.dir"))
            .resolve("../integration-tests/src/main/standin/airflow_standin.py")
            .normalize();

    /** The wrapper that makes any program a scheduler holding the lifetime lock ({@code lifetime_exec.py}). */
    public static final Path LIFETIME_EXEC = SCRIPT.resolveSibling("lifetime_exec.py");

    /**
     * The absolute path of a working python3, for commands run where PATH differs (over SSH, or
     * entered into another namespace with nsenter, where a pyenv shim may pick the wrong one).
     */
    public static final String PYTHON = resolvePython();

    private static String resolvePython() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.startsWith("/") ? out : "python3";
        } catch (java.io.IOException e) {
            return "python3";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "python3";
        }
    }

    /** Fast supervision timings for tests: restarts, checks and grace in fractions of a second. */
    public static final String FAST_TIMINGS =
            """

            asfc.scheduler { restart-sleep = 200ms, stop-timeout = 3s, check-interval = 200ms,
                             max-restarts-before-failover = 3, start-timeout = 30s }
            asfc.controller.takeover-grace = 1s
            """;

    private final Path dir;

    /** @param dir this test's directory: control files live there and mark its processes */
    public StandIn(Path dir) {
        this.dir = dir;
    }

    /** HOCON for an agent whose scheduler is the stand-in, plus {@code args}. */
    public String config(String node, String args) {
        return "\nasfc.scheduler.start-command = \"\"\"exec python3 " + SCRIPT + " --host " + node + " --control "
                + control(node) + " --tick-file " + dir.resolve("ticks") + " --lifetime-lock " + lifetimeLock() + " "
                + args + "\"\"\"\n";
    }

    /** The command that starts {@code node}'s stand-in as a daemon writing {@code pidFile}, as {@code airflow scheduler -D} does. */
    public String daemon(String node, Path pidFile, String args) {
        return "exec python3 " + SCRIPT + " --host " + node + " --control " + control(node) + " --tick-file "
                + dir.resolve("ticks") + " " + args + " --daemon --pid-file " + pidFile;
    }

    /**
     * HOCON for command mode with {@code start} and {@code pidFile}; the process pattern names only {@code node}'s
     * stand-in, since all "hosts" share this machine.
     */
    public String commandMode(String node, Path pidFile, String start) {
        return """

                asfc.scheduler {
                  mode = command
                  pid-file = "%s"
                  process-pattern = \"\"\"--host %s --control %s\"\"\"
                  start-command = \"\"\"%s\"\"\"
                }
                """
                .formatted(pidFile, node, control(node), start);
    }

    /** The command line that starts a stand-in for {@code node} by hand (no control file), plus {@code args}. */
    public String byHand(String node, String... args) {
        return "python3 " + SCRIPT + " --host " + node + " --tick-file " + dir.resolve("ticks") + " --lifetime-lock "
                + lifetimeLock() + (args.length == 0 ? "" : " " + String.join(" ", args));
    }

    /**
     * The command that runs {@code program} as {@code node}'s scheduler holding this test's lifetime lock: the wrapper
     * takes it, then execs the program (the same process).
     */
    public List<String> wrapped(String node, String... program) {
        List<String> command = new java.util.ArrayList<>(List.of(
                "python3",
                LIFETIME_EXEC.toString(),
                "--lifetime-lock",
                lifetimeLock().toString(),
                "--host",
                node,
                "--"));
        command.addAll(List.of(program));
        return command;
    }

    /**
     * The settings of node {@code a} that runs the stand-in for node {@code c} over SSH on {@code host}, finding it
     * by {@code pattern} (no ZooKeeper: the controller's SSH side alone). The config file is written under this
     * test's directory.
     */
    public io.asfc.common.config.AsfcSettings overSsh(Sshd host, String pattern) throws java.io.IOException {
        Path conf = dir.resolve("asfc-" + System.nanoTime() + ".conf");
        Files.writeString(
                conf,
                """
                asfc {
                  node.id = a
                  zookeeper.connect = "127.0.0.1:1"
                  scheduler {
                    start-command = \"""exec %s %s --host c --tick-file %s\"""
                    process-pattern = "%s"
                    stop-timeout = 1s
                  }
                  ssh {
                    user = "%s"
                    identity-files = ["%s"]
                    known-hosts = "%s"
                    connect-timeout = 2s
                    command-timeout = 10s
                  }
                }
                """
                        .formatted(
                                PYTHON,
                                SCRIPT,
                                dir.resolve("ticks"),
                                pattern,
                                host.user(),
                                host.clientKey(),
                                host.knownHosts()));
        return new io.asfc.common.config.SettingsLoader(dir, () -> "a").load(conf);
    }

    /** A string in the command line of every process of this test's stand-ins (its directory). */
    public String marker() {
        return dir.toString();
    }

    /** The lock file every stand-in of this test holds while it lives: the exact witness of S1 ({@link Lifetimes}). */
    public Path lifetimeLock() {
        return dir.resolve("lifetime.lock");
    }

    /** A reader of this test's lifetime journal; close it when done. */
    public Lifetimes lifetimes() {
        return new Lifetimes(lifetimeLock());
    }

    public Path control(String node) {
        return dir.resolve(node + ".control");
    }

    /** Tells the stand-in of {@code node} to "crash", "hang" or be "ok". */
    public void tell(String node, String command) throws Exception {
        Files.writeString(control(node), command);
    }

    /**
     * This test's stand-in main processes, by the node they run for. Two main processes of one node are two
     * schedulers (S1), not one: this throws {@link TwoOnOneNode} rather than keep either.
     */
    public Map<String, ProcessInfo> mains() {
        return mains(ProcessTable.snapshot());
    }

    public Map<String, ProcessInfo> mains(ProcessTable table) {
        return mainProcesses(table).stream().collect(Collectors.toMap(StandIn::node, p -> p, (a, b) -> {
            throw new TwoOnOneNode(a, b);
        }));
    }

    /** Two scheduler main processes run for one node: a breach of S1 that a map by node cannot hold. */
    public static final class TwoOnOneNode extends IllegalStateException {
        TwoOnOneNode(ProcessInfo a, ProcessInfo b) {
            super("S1: two scheduler processes for node " + node(a) + ": pids " + a.pid() + " and " + b.pid());
        }
    }

    /**
     * Every main process of this test's stand-ins, as a list: two mains of one node are two
     * schedulers (S1 counts processes, on two hosts or on one), where {@link #mains()} keeps one per node.
     * A main's own child that has not exec'd yet (the fork that becomes its DagFileProcessorManager or
     * worker) still bears the main's title for a moment: it is the same scheduler, and left out.
     */
    public List<ProcessInfo> mainProcesses(ProcessTable table) {
        List<ProcessInfo> mains = table.matching(this::isMain);
        Set<Long> pids = mains.stream().map(ProcessInfo::pid).collect(Collectors.toSet());
        return mains.stream().filter(p -> !pids.contains(p.ppid())).toList();
    }

    /** The node a stand-in main process runs for: the value of its {@code --host}. */
    public static String node(ProcessInfo main) {
        return nodeOf(main.cmdline());
    }

    /** SIGKILL for every process of this test's stand-in trees that is still alive (test cleanup). */
    public void killAll() {
        all().forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
    }

    /** Every process of this test's stand-in trees (main, manager, processor, worker). */
    public List<ProcessInfo> all() {
        return ProcessTable.snapshot().matching(p -> p.cmdline().contains(SCRIPT.toString())).stream()
                .filter(p -> p.cmdline().contains("--role") || isMain(p))
                .toList();
    }

    private boolean isMain(ProcessInfo p) {
        return p.cmdline().startsWith("airflow scheduler " + SCRIPT)
                && p.cmdline().contains(dir.toString());
    }

    private static String nodeOf(String cmdline) {
        String[] words = cmdline.split(" ");
        for (int i = 0; i < words.length - 1; i++) {
            if (words[i].equals("--host")) {
                return words[i + 1];
            }
        }
        return "?";
    }
}
