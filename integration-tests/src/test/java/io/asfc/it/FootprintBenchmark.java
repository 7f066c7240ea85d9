package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The footprint benchmark of issue 19: three agents of the built distribution, started with {@code
 * bin/asfc-agent start} at shipped defaults (each with its own conf, pid and log directory) against
 * a standalone ZooKeeper, left idle for a warm-up and then measured over a window from {@code /proc}:
 * RSS, CPU and threads per agent, ZooKeeper writes per agent (the server's zxid and each {@code
 * agents/<node>} version), and the wall time of {@code asfc-agent metadata --json}. It prints a
 * table and asserts nothing about speed; it is not an IT, so {@code verify} does not run it:
 *
 * <pre>
 * mvn -B -ntp -o verify -pl integration-tests -am -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=FootprintBenchmark -Dbench.warmup=120s -Dbench.window=180s
 * </pre>
 *
 * The only settings that differ from the shipped ones are what three agents on one host need: node
 * ids, {@code nodes}, the ZooKeeper address, a stand-in scheduler ({@code sleep}), {@code
 * ssh.enabled = false} (the nodes are names, not hosts with sshd) and {@code scheduler.foreign =
 * alert}: on a shared build host the shipped {@code stop} would kill the stand-in schedulers of
 * other builds' tests (they match {@code process-pattern} and carry node ids a, b, c too); the sweep
 * costs the same, it only reports instead of stopping.
 */
class FootprintBenchmark {
    private static final List<String> NODES = List.of("a", "b", "c");
    private static final Duration WARMUP = BenchmarkProperties.duration("bench.warmup", "120s");
    private static final Duration WINDOW = BenchmarkProperties.duration("bench.window", "180s");
    private static final int CLI_RUNS = Integer.getInteger("bench.cli-runs", 10);
    private static final Duration SAMPLE = Duration.ofSeconds(5);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final String TIME = "/usr/bin/time";

    @TempDir
    Path dir;

    private Distribution dist;
    private StandaloneZooKeeper zooKeeper;
    private final Map<String, Map<String, String>> envs = new LinkedHashMap<>();

    @AfterEach
    void stop() throws Exception {
        for (Map<String, String> env : envs.values()) {
            dist.run(env, COMMAND_TIMEOUT, "stop");
        }
        if (zooKeeper != null) {
            zooKeeper.close();
        }
    }

    @Test
    void threeIdleAgentsAtShippedDefaults() throws Exception {
        dist = Distribution.unpack(dir);
        zooKeeper = StandaloneZooKeeper.start(dist, Files.createDirectories(dir.resolve("zk")));
        for (String node : NODES) {
            envs.put(node, agentDirs(node));
            CommandResult start = dist.run(envs.get(node), COMMAND_TIMEOUT, "start");
            assertEquals(0, start.exitCode(), start::describe);
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String node : NODES) {
            pids.put(node, pid(node));
        }
        try (CuratorFramework zk =
                CuratorFrameworkFactory.newClient(zooKeeper.connectString(), new RetryOneTime(500))) {
            zk.start();
            zk.blockUntilConnected();
            await("three agents and a running scheduler")
                    .atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> runningSchedulers(zk) == 1
                            && zk.getChildren().forPath(agents()).size() == 3);
            System.out.printf(
                    "footprint: warming up for %ss, then measuring for %ss%n", WARMUP.toSeconds(), WINDOW.toSeconds());
            Thread.sleep(WARMUP.toMillis()); // a benchmark's warm-up: the agents must be left alone

            long ticksPerSecond = clockTicks();
            Map<String, Long> cpu0 = new LinkedHashMap<>();
            Map<String, Integer> versions0 = new LinkedHashMap<>();
            for (String node : NODES) {
                cpu0.put(node, cpuTicks(pids.get(node)));
                versions0.put(
                        node, zk.checkExists().forPath(agents() + "/" + node).getVersion());
            }
            long zxid0 = zxid();
            long t0 = System.nanoTime();
            Map<String, List<Long>> rss = new LinkedHashMap<>();
            Map<String, List<Long>> threads = new LinkedHashMap<>();
            NODES.forEach(n -> {
                rss.put(n, new ArrayList<>());
                threads.put(n, new ArrayList<>());
            });
            long end = t0 + WINDOW.toNanos();
            while (System.nanoTime() < end) {
                for (String node : NODES) {
                    Map<String, String> status = status(pids.get(node));
                    rss.get(node).add(kb(status.get("VmRSS")));
                    threads.get(node).add(Long.parseLong(status.get("Threads").trim()));
                }
                Thread.sleep(Math.min(SAMPLE.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long zxid1 = zxid();

            StringBuilder table = new StringBuilder();
            table.append(String.format(
                    Locale.ROOT,
                    "%nfootprint: 3 agents, warm-up %ds, window %.0fs, %d CPUs, load average %s%n",
                    WARMUP.toSeconds(),
                    seconds,
                    Runtime.getRuntime().availableProcessors(),
                    Files.readString(Path.of("/proc/loadavg")).trim()));
            table.append(
                    String.format(
                            Locale.ROOT,
                            "| agent | role | RSS mean (MB) | RSS max (MB) | CPU (%% of one core) | threads (max) | agents/<node> writes/s |%n"));
            table.append("|---|---|---|---|---|---|---|\n");
            for (String node : NODES) {
                double cpu = (cpuTicks(pids.get(node)) - cpu0.get(node)) / (double) ticksPerSecond / seconds * 100;
                int writes = zk.checkExists().forPath(agents() + "/" + node).getVersion() - versions0.get(node);
                table.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %.1f | %.1f | %.2f | %d | %.3f |%n",
                        node,
                        role(zk, node),
                        rss.get(node).stream()
                                        .mapToLong(Long::longValue)
                                        .average()
                                        .orElse(0)
                                / 1024,
                        rss.get(node).stream().mapToLong(Long::longValue).max().orElse(0) / 1024.0,
                        cpu,
                        threads.get(node).stream()
                                .mapToLong(Long::longValue)
                                .max()
                                .orElse(0),
                        writes / seconds));
            }
            table.append(String.format(
                    Locale.ROOT,
                    "ZooKeeper transactions (zxid delta): %d in %.0fs = %.3f/s for the cluster, %.3f/s per agent%n",
                    zxid1 - zxid0,
                    seconds,
                    (zxid1 - zxid0) / seconds,
                    (zxid1 - zxid0) / seconds / NODES.size()));

            // CPU time (user + sys, from /usr/bin/time) says more than wall time on a loaded machine
            boolean timed = Files.isExecutable(Path.of(TIME));
            List<String> prefix = timed ? List.of(TIME, "-f", "cpu %U %S") : List.of();
            List<Double> cli = new ArrayList<>();
            List<Double> cliCpu = new ArrayList<>();
            for (int i = 0; i < CLI_RUNS; i++) {
                long c0 = System.nanoTime();
                CommandResult metadata = dist.run(prefix, envs.get("a"), COMMAND_TIMEOUT, "metadata", "--json");
                cli.add((System.nanoTime() - c0) / 1e9);
                assertEquals(0, metadata.exitCode(), metadata::describe);
                assertTrue(metadata.stdout().startsWith("{"), metadata::describe); // nothing but JSON on stdout
                String[] lines = metadata.stderr().strip().split("\n");
                String last = lines[lines.length - 1];
                if (timed && last.startsWith("cpu ")) {
                    String[] f = last.split(" ");
                    cliCpu.add(Double.parseDouble(f[1]) + Double.parseDouble(f[2]));
                }
            }
            List<Double> sorted = cli.stream().sorted().toList();
            table.append(String.format(
                    Locale.ROOT,
                    "metadata --json over %d runs (the first makes the CDS archive): wall median %.2fs, min %.2fs,"
                            + " max %.2fs; CPU (user + sys) median %s%n",
                    CLI_RUNS,
                    median(sorted),
                    sorted.get(0),
                    sorted.get(sorted.size() - 1),
                    cliCpu.isEmpty()
                            ? "n/a"
                            : String.format(
                                    Locale.ROOT,
                                    "%.2fs",
                                    median(cliCpu.stream().sorted().toList()))));
            try (var archives = Files.list(Path.of(envs.get("a").get("ASFC_PID_DIR")))) {
                table.append("CDS archive of the CLI: "
                        + archives.map(p -> p.getFileName().toString())
                                .filter(n -> n.endsWith(".jsa"))
                                .findFirst()
                                .orElse("none")
                        + "\n");
            }
            System.out.print(table);
            Path report = Path.of("target", "footprint-benchmark.md");
            Files.createDirectories(report.getParent());
            Files.writeString(report, table.toString(), StandardCharsets.UTF_8);
        }
    }

    private Map<String, String> agentDirs(String node) throws IOException {
        Path base = Files.createDirectories(dir.resolve("agent-" + node));
        Path conf = Files.createDirectories(base.resolve("conf"));
        Files.copy(
                dist.home().resolve("conf/logback.xml"),
                conf.resolve("logback.xml"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(
                conf.resolve("asfc.conf"),
                """
                asfc {
                  node.id = %s
                  nodes = [%s]
                  zookeeper.connect = "%s"
                  scheduler.start-command = "exec sleep 1000000"
                  ssh.enabled = false
                  scheduler.foreign = alert
                }
                """
                        .formatted(node, String.join(", ", NODES), zooKeeper.connectString()),
                StandardCharsets.UTF_8);
        return Map.of(
                "ASFC_CONF_DIR", conf.toString(),
                "ASFC_PID_DIR", base.resolve("run").toString(),
                "ASFC_LOG_DIR", base.resolve("logs").toString());
    }

    private long pid(String node) throws IOException {
        return Long.parseLong(Files.readString(Path.of(envs.get(node).get("ASFC_PID_DIR"), "asfc-agent.pid"))
                .trim());
    }

    private static String agents() {
        return "/airflow/failover/default/agents";
    }

    private static int runningSchedulers(CuratorFramework zk) throws Exception {
        int running = 0;
        for (String node : zk.getChildren().forPath(agents())) {
            String json = new String(zk.getData().forPath(agents() + "/" + node), StandardCharsets.UTF_8);
            if (json.contains("\"running\":true")) {
                running++;
            }
        }
        return running;
    }

    private static String role(CuratorFramework zk, String node) throws Exception {
        String json = new String(zk.getData().forPath(agents() + "/" + node), StandardCharsets.UTF_8);
        String running = json.contains("\"running\":true") ? ", scheduler" : "";
        return (json.contains("\"role\":\"ACTIVE\"") ? "ACTIVE" : "STANDBY") + running;
    }

    private long zxid() throws IOException {
        for (String line : Network.fourLetterWord(zooKeeper.port(), "srvr").split("\n")) {
            if (line.startsWith("Zxid:")) {
                return Long.decode(line.substring("Zxid:".length()).trim());
            }
        }
        throw new AssertionError("no Zxid in srvr's answer");
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15)
    }

    private static Map<String, String> status(long pid) throws IOException {
        Map<String, String> status = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                status.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return status;
    }

    private static long kb(String value) {
        return Long.parseLong(value.replace("kB", "").trim());
    }

    private static long clockTicks() throws IOException, InterruptedException {
        Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
        String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        getconf.waitFor();
        return out.isEmpty() ? 100 : Long.parseLong(out);
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
