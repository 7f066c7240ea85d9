package io.asfc.agent.demo;

import io.asfc.agent.zk.EmbeddedZooKeeper;
import io.asfc.common.config.ZkSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The demo's cluster on this machine: an embedded ZooKeeper and three agent processes (real JVMs,
 * so that a kill -9 is a real one) whose scheduler is the stand-in, in child mode. Everything lives
 * in one temporary directory, removed by {@link #close()}.
 */
final class DemoCluster implements Closeable {
    static final List<String> NODES = List.of("a", "b", "c");

    private final Path dir;
    private final Path standIn;
    private final EmbeddedZooKeeper zooKeeper;
    private final int port;
    private final Map<String, Process> agents = new LinkedHashMap<>();

    DemoCluster(Path dir, Path standIn) {
        this.dir = dir;
        this.standIn = standIn;
        this.port = freePort();
        this.zooKeeper = new EmbeddedZooKeeper(new ZkSettings.Embedded("127.0.0.1", port, dir.resolve("zookeeper")));
    }

    String connect() {
        return "127.0.0.1:" + port;
    }

    Path dir() {
        return dir;
    }

    void start() throws IOException {
        zooKeeper.start();
        for (String node : NODES) {
            writeConfig(node);
            launch(node);
        }
    }

    /** Starts the agent of {@code node} again if its process is gone. */
    boolean restart(String node) throws IOException {
        Process p = agents.get(node);
        if (p != null && p.isAlive()) {
            return false;
        }
        launch(node);
        return true;
    }

    Optional<Long> agentPid(String node) {
        Process p = agents.get(node);
        return p != null && p.isAlive() ? Optional.of(p.pid()) : Optional.empty();
    }

    /** The stand-in's main process under the session the agent reported (its watchdog leads it). */
    static Optional<ProcessInfo> schedulerMain(long sessionLeader) {
        return ProcessTable.snapshot().tree(sessionLeader).stream()
                .filter(p -> p.cmdline().startsWith("airflow scheduler "))
                .min(Comparator.comparingLong(ProcessInfo::pid));
    }

    private void writeConfig(String node) throws IOException {
        Path home = dir.resolve(node);
        Files.createDirectories(home);
        String conf =
                """
                asfc {
                  node.id = %s
                  nodes = [a, b, c]
                  zookeeper { connect = "%s", session-timeout = 4s, self-fence-after = 1s, connection-timeout = 3s }
                  controller { heartbeat-interval = 500ms, takeover-grace = 2s }
                  # One machine: every "node" is this host, so SSH enforcement would see all three.
                  ssh.enabled = false
                  scheduler {
                    mode = child
                    start-command = \"""exec python3 %s --host %s --tick-file %s\"""
                    # Only this demo's stand-ins: a scheduler of your own on this machine is no business
                    # of the demo (scheduler.foreign would stop it as one asfc did not start).
                    process-pattern = \"""^airflow scheduler .*--tick-file \\Q%s\\E\"""
                    restart-sleep = 500ms
                    check-interval = 500ms
                    stop-timeout = 5s
                    self-fence-stop-timeout = 1s
                  }
                }
                """
                        .formatted(node, connect(), standIn, node, dir.resolve("ticks"), dir.resolve("ticks"));
        Files.writeString(home.resolve("asfc.conf"), conf);
    }

    private void launch(String node) throws IOException {
        Path home = dir.resolve(node);
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of("-Xmx128m", "-XX:+ExitOnOutOfMemoryError", "-XX:TieredStopAtLevel=1"));
        command.add("-Dasfc.home=" + home);
        command.add("-Dasfc.log.dir=" + home);
        command.add("-Dasfc.pid.dir=" + home);
        command.add("-Dasfc.log.name=agent");
        String logback = System.getProperty("logback.configurationFile");
        if (logback != null) {
            command.add("-Dlogback.configurationFile=" + logback);
        }
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                "io.asfc.agent.cli.AsfcCli",
                "--conf",
                home.resolve("asfc.conf").toString(),
                "run"));
        Process p = new ProcessBuilder(command)
                .redirectInput(new File("/dev/null"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        home.resolve("agent.out").toFile()))
                .start();
        agents.put(node, p);
    }

    /** Stops the agents (they stop their schedulers), the ZooKeeper, and removes the directory. */
    @Override
    public void close() {
        agents.values().forEach(Process::destroy);
        for (Process p : agents.values()) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        // a scheduler whose agent was killed is stopped by its watchdog; whatever is left goes now
        ProcessTable.snapshot()
                .matching(p -> p.cmdline().contains(dir.toString()))
                .forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
        zooKeeper.close();
        delete(dir);
    }

    private static void delete(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the demo directory " + root, e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port for the demo's ZooKeeper", e);
        }
    }
}
