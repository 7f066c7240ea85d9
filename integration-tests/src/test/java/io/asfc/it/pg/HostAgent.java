package io.asfc.it.pg;

import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import io.asfc.it.Distribution;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The real {@code bin/asfc-agent} of the built distribution on one scheduler host, with its own {@code asfc.conf}
 * and its conf, pid and log directories in the host's directory. Every command runs on the host.
 */
final class HostAgent {

    static final Duration DAEMON_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CLI_TIMEOUT = Duration.ofMinutes(1);

    private final Distribution dist;
    private final Host host;
    private final String node;
    private final Path confDir;
    private final Path pidDir;
    private final Path logDir;

    private HostAgent(Distribution dist, Host host, String node) {
        this.dist = dist;
        this.host = host;
        this.node = node;
        this.confDir = host.dir().resolve("conf");
        this.pidDir = host.dir().resolve("run");
        this.logDir = host.dir().resolve("logs");
    }

    /**
     * Writes the agent's configuration: node {@code node} of the scheduler {@code hosts} (node id → host, in {@code
     * asfc.nodes} order), of which {@code agentless} run no agent, with the ZooKeeper ensemble at {@code connect}, SSH with the proving ground's keys, and the scheduler started as {@code
     * startCommand}; {@code extraConf} (HOCON) is appended, and may override any of it.
     */
    static HostAgent create(
            Distribution dist,
            Host host,
            String node,
            Map<String, Host> hosts,
            List<String> agentless,
            String connect,
            Keys keys,
            Tunings t,
            String startCommand,
            String extraConf)
            throws IOException {
        HostAgent agent = new HostAgent(dist, host, node);
        Files.createDirectories(agent.confDir);
        Files.copy(
                dist.home().resolve("conf/logback.xml"),
                agent.confDir.resolve("logback.xml"),
                StandardCopyOption.REPLACE_EXISTING);
        String nodeHosts = hosts.entrySet().stream()
                .map(e -> e.getKey() + " = \"" + e.getValue().address() + "\"")
                .collect(Collectors.joining(", "));
        String conf =
                """
                asfc {
                  node.id = %s
                  nodes = [%s]
                  agentless-nodes = [%s]
                  node-hosts { %s }
                  zookeeper {
                    connect = "%s"
                    session-timeout = %s
                    connection-timeout = 3s
                    self-fence-after = %s
                  }
                  scheduler {
                    mode = child
                    start-command = \"""%s\"""
                    restart-sleep = %s
                    check-interval = 200ms
                    stop-timeout = %s
                    self-fence-stop-timeout = %s
                    max-restarts-before-failover = 3
                  }
                  controller {
                    poll-interval = %s
                    heartbeat-interval = %s
                    takeover-grace = %s
                    on-unfenceable = proceed
                    verify-agents-every = 2
                  }
                  ssh {
                    enabled = true
                    user = root
                    port = 22
                    identity-files = ["%s"]
                    known-hosts = "%s"
                    strict-host-key-checking = yes
                    connect-timeout = %s
                    command-timeout = %s
                  }
                }
                """
                                .formatted(
                                        node,
                                        String.join(", ", hosts.keySet()),
                                        String.join(", ", agentless),
                                        nodeHosts,
                                        connect,
                                        Tunings.ms(t.sessionTimeout()),
                                        Tunings.ms(t.selfFenceAfter()),
                                        startCommand,
                                        Tunings.ms(t.restartSleep()),
                                        Tunings.ms(t.stopTimeout()),
                                        Tunings.ms(t.selfFenceStopTimeout()),
                                        Tunings.ms(t.pollInterval()),
                                        Tunings.ms(t.heartbeatInterval()),
                                        Tunings.ms(t.takeoverGrace()),
                                        keys.clientKey(),
                                        keys.knownHosts(),
                                        Tunings.ms(t.sshConnectTimeout()),
                                        Tunings.ms(t.sshCommandTimeout()))
                        + extraConf;
        Files.writeString(agent.confDir.resolve("asfc.conf"), conf, StandardCharsets.UTF_8);
        return agent;
    }

    String node() {
        return node;
    }

    Host host() {
        return host;
    }

    /** Runs {@code bin/asfc-agent args} on the host with this agent's directories. */
    CommandResult run(Duration timeout, String... args) throws IOException, InterruptedException {
        return dist.run(
                host.enter(),
                Map.of(
                        "ASFC_CONF_DIR", confDir.toString(),
                        "ASFC_PID_DIR", pidDir.toString(),
                        "ASFC_LOG_DIR", logDir.toString()),
                timeout,
                args);
    }

    /** {@code bin/asfc-agent start}, which must succeed. */
    void start() throws IOException, InterruptedException {
        CommandResult start = run(DAEMON_TIMEOUT, "start");
        if (start.exitCode() != 0) {
            throw new IllegalStateException("start of agent " + node + " failed\n" + start.describe() + logTails());
        }
    }

    /** {@code bin/asfc-agent stop}: SIGTERM, wait, SIGKILL. */
    CommandResult stop() throws IOException, InterruptedException {
        return run(DAEMON_TIMEOUT, "stop");
    }

    /** A command-line command, e.g. {@code failover --to b}. */
    CommandResult cli(String... args) throws IOException, InterruptedException {
        return run(CLI_TIMEOUT, args);
    }

    /** The agent's pid in the root namespace, if it runs: the pid file holds its pid on the host. */
    Optional<Long> pid() throws IOException {
        Path pidFile = pidDir.resolve("asfc-agent.pid");
        if (!host.isUp() || !Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        long local;
        try {
            local = Long.parseLong(Files.readString(pidFile).trim());
        } catch (NumberFormatException e) {
            return Optional.empty(); // being written
        }
        Optional<Long> global = host.globalPid(local);
        return global.filter(pid -> cmdline(pid).contains("io.asfc.agent.cli.AsfcCli"));
    }

    boolean isRunning() throws IOException {
        return pid().isPresent();
    }

    /** The agent's resident set size in KiB and its CPU time (user + system) in clock ticks. */
    long[] rssKibAndCpuTicks() throws IOException {
        long pid = pid().orElseThrow(() -> new IllegalStateException("agent " + node + " is not running"));
        long rss = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst()
                .orElse(0L);
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {rss, Long.parseLong(f[11]) + Long.parseLong(f[12])};
    }

    String logTails() {
        StringBuilder tails = new StringBuilder();
        for (String name : List.of("asfc-agent.log", "asfc-agent.out")) {
            tails.append("--- ")
                    .append(node)
                    .append("'s ")
                    .append(name)
                    .append(":\n")
                    .append(Commands.tail(logDir.resolve(name), 25));
        }
        return tails.toString();
    }

    private static String cmdline(long pid) {
        try {
            return new String(
                    Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return ""; // gone
        }
    }
}
