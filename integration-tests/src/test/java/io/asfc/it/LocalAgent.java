package io.asfc.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One agent of a cluster on this host: it shares the unpacked distribution with the others, but has its own
 * {@code ASFC_CONF_DIR} (asfc.conf and logback.xml), {@code ASFC_PID_DIR} and {@code ASFC_LOG_DIR}.
 */
final class LocalAgent {

    /** Bounds {@code start} (which itself waits up to ASFC_START_TIMEOUT=60 s) and {@code stop}. */
    static final Duration DAEMON_COMMAND_TIMEOUT = Duration.ofMinutes(2);

    static final Duration CLI_COMMAND_TIMEOUT = Duration.ofMinutes(1);

    private final Distribution dist;
    private final String node;
    private final Path confDir;
    private final Path pidDir;
    private final Path logDir;

    /** Every pid this agent has had, so that cleanup finds it even when the pid file is gone. */
    private final Set<Long> pids = new HashSet<>();

    /** HOCON appended to asfc.conf, after (so overriding) the common settings. */
    private String extraConfig = "";

    private LocalAgent(Distribution dist, String node, Path dir) {
        this.dist = dist;
        this.node = node;
        this.confDir = dir.resolve("conf");
        this.pidDir = dir.resolve("run");
        this.logDir = dir.resolve("logs");
    }

    /**
     * Creates the agent's directories under {@code dir}, with the distribution's logback.xml and an asfc.conf for
     * node {@code node} of {@code nodes}, connected to {@code connect}.
     */
    static LocalAgent create(
            Distribution dist, String node, List<String> nodes, String connect, Duration sessionTimeout, Path dir)
            throws IOException {
        LocalAgent agent = new LocalAgent(dist, node, dir);
        Files.createDirectories(agent.confDir);
        Files.copy(
                dist.home().resolve("conf/logback.xml"),
                agent.confDir.resolve("logback.xml"),
                StandardCopyOption.REPLACE_EXISTING);
        agent.writeConfig(nodes, connect, sessionTimeout);
        return agent;
    }

    /**
     * As {@link #create(Distribution, String, List, String, Duration, Path)}, with {@code extraConfig} (HOCON)
     * appended to asfc.conf, e.g. the scheduler's start command.
     */
    static LocalAgent create(
            Distribution dist,
            String node,
            List<String> nodes,
            String connect,
            Duration sessionTimeout,
            Path dir,
            String extraConfig)
            throws IOException {
        LocalAgent agent = create(dist, node, nodes, connect, sessionTimeout, dir);
        agent.writeConfig(nodes, connect, sessionTimeout, extraConfig);
        return agent;
    }

    /**
     * Marks the stand-in scheduler command ({@code sleep}) of these agents, so that cleanup can
     * find and end, by pid, any that a killed agent left behind.
     */
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(30);

    static final String SCHEDULER_MARKER = "asfc-election-it";

    /** Rewrites asfc.conf, keeping the extra HOCON last written; the agent reads it at its next start. */
    void writeConfig(List<String> nodes, String connect, Duration sessionTimeout) throws IOException {
        writeConfig(nodes, connect, sessionTimeout, extraConfig);
    }

    /** Rewrites asfc.conf with {@code extra} (HOCON) appended, overriding the common settings. */
    void writeConfig(List<String> nodes, String connect, Duration sessionTimeout, String extra) throws IOException {
        extraConfig = extra;
        String conf =
                """
                asfc {
                  node.id = %s
                  nodes = [%s]
                  zookeeper {
                    connect = "%s"
                    session-timeout = %dms
                    self-fence-after = 1s
                    connection-timeout = 3s
                  }
                  scheduler.self-fence-stop-timeout = 1s
                  controller.heartbeat-interval = 500ms
                  ssh.enabled = false
                  scheduler.start-command = \"""exec python3 -c 'import time; time.sleep(600)' %s\"""
                }
                """
                        .formatted(
                                node, String.join(", ", nodes), connect, sessionTimeout.toMillis(), SCHEDULER_MARKER);
        Files.writeString(confDir.resolve("asfc.conf"), conf + extra, StandardCharsets.UTF_8);
    }

    String node() {
        return node;
    }

    /** Runs {@code bin/asfc-agent} with this agent's conf, pid and log directories. */
    CommandResult run(Duration timeout, String... args) throws IOException, InterruptedException {
        return run(Map.of(), timeout, args);
    }

    /** As {@link #run(Duration, String...)}, with {@code environment} added, e.g. {@code ASFC_START_TIMEOUT}. */
    CommandResult run(Map<String, String> environment, Duration timeout, String... args)
            throws IOException, InterruptedException {
        Map<String, String> overrides = new java.util.HashMap<>(environment);
        overrides.put("ASFC_CONF_DIR", confDir.toString());
        overrides.put("ASFC_PID_DIR", pidDir.toString());
        overrides.put("ASFC_LOG_DIR", logDir.toString());
        CommandResult result = dist.run(overrides, timeout, args);
        recordedPid().ifPresent(pids::add);
        return result;
    }

    CommandResult start() throws IOException, InterruptedException {
        return run(DAEMON_COMMAND_TIMEOUT, "start");
    }

    CommandResult stop() throws IOException, InterruptedException {
        return run(DAEMON_COMMAND_TIMEOUT, "stop");
    }

    /** Runs a command-line command such as {@code metadata --json}. */
    CommandResult cli(String... args) throws IOException, InterruptedException {
        return run(CLI_COMMAND_TIMEOUT, args);
    }

    /** The pid in this agent's pid file, if there is one holding a number. */
    Optional<Long> recordedPid() throws IOException {
        Path pidFile = pidDir.resolve("asfc-agent.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(
                    Files.readString(pidFile, StandardCharsets.UTF_8).trim()));
        } catch (NumberFormatException e) {
            // Not a pid the script wrote; callers treat it as no pid.
            return Optional.empty();
        }
    }

    /** The pid in the pid file, which must exist. */
    long pid() throws IOException {
        return recordedPid().orElseThrow(() -> new AssertionError("agent " + node + " has no pid file in " + pidDir));
    }

    /** Every pid seen in this agent's pid file. */
    Set<Long> pidsSeen() {
        return Set.copyOf(pids);
    }

    /** Whether the daemon's log mentions {@code text}. */
    boolean logContains(String text) throws IOException {
        Path log = logDir.resolve("asfc-agent.log");
        return Files.isRegularFile(log) && new String(Files.readAllBytes(log), StandardCharsets.UTF_8).contains(text);
    }

    /** Where the daemon's log, its output and its scheduler's output ({@code scheduler-<node>.out}) go. */
    Path logDir() {
        return logDir;
    }

    /** The last lines of the daemon's log and output and of its scheduler's output, for assertion messages. */
    String logTails() {
        StringBuilder tails = new StringBuilder();
        for (String name : List.of("asfc-agent.log", "asfc-agent.out", "scheduler-" + node + ".out")) {
            Path file = logDir.resolve(name);
            tails.append("--- last lines of ")
                    .append(node)
                    .append("'s ")
                    .append(file)
                    .append(":\n")
                    .append(Commands.tail(file, 30));
        }
        return tails.toString();
    }

    /**
     * Cleanup that never throws: {@code bin/asfc-agent stop}, then SIGKILL for every pid this agent
     * ever had; what goes wrong is added to {@code problems}.
     */
    void stopForCleanup(List<String> problems) {
        try {
            CommandResult stop = stop();
            if (stop.exitCode() != 0) {
                problems.add("stop of " + node() + " failed\n" + stop.describe() + logTails());
            }
        } catch (IOException | AssertionError e) {
            problems.add("stop of " + node() + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add("interrupted while stopping " + node());
        }
        for (long pid : pidsSeen()) {
            try {
                Processes.killAndAwaitEnd(pid, CLEANUP_TIMEOUT);
            } catch (ConditionTimeoutException e) {
                problems.add(node() + "'s pid " + pid + " survived SIGKILL");
            }
        }
    }
}
