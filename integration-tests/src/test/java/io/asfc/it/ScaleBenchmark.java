package io.asfc.it;

import static org.awaitility.Awaitility.await;

import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scale benchmark of issue 19: K clusters of N agents each against ONE three-node ZooKeeper ensemble on this
 * machine, and what it costs the ensemble as K × N grows. Per K × N it reports the ensemble's writes and reads per
 * second, watches, znodes and connections, the CPU of the three server processes, and two failover times of one cluster
 * while the other clusters run, each measured until its scheduler runs on another node: its ACTIVE (which runs the
 * scheduler) has its session expired at the servers (the agent lives on and learns of it), then the next ACTIVE crashes
 * (cut off from ZooKeeper without closing its session, as {@code kill -9} or a dead host). Then, per figure, the
 * least-squares slope against the number of agents K × N. It prints a table and writes it to {@code
 * target/scale-benchmark.md}; it asserts nothing about speed, and it is not an IT, so {@code verify} does not run it:
 *
 * <pre>
 * flock /tmp/asfc-heavy.lock mvn -B -ntp -o verify -pl integration-tests -am -DskipPitest -Dtest=NONE \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ScaleBenchmark
 * # quick, for development (K in {1, 2}, warm-up 10 s, window 20 s; no lock needed): -Dbench.quick=true
 * # or any grid: -Dbench.clusters=1,10,50 -Dbench.agents=3,5 -Dbench.warmup=30s -Dbench.window=60s
 * </pre>
 *
 * <p>The ensemble is three {@code QuorumPeerMain} JVMs ({@link LoopbackEnsemble}: separate processes, loopback ports,
 * ZooKeeper's default 2 s tick), started afresh for each K × N with its data under {@code target/scale-benchmark/}. The
 * agents run in this JVM ({@link InProcessAgents}, a test-only mode: 250 agent JVMs do not fit on two cores), each the
 * product's own {@code Agent} with its own session, at the shipped timings of {@code reference.conf}. Cluster {@code
 * cNN} (its own namespace {@code /airflow/failover/cNN}, as a deployment of K clusters would have) has nodes {@code
 * cNN-a}, {@code cNN-b}, ...; what differs from the shipped defaults is only what many agents on one host need: the
 * node ids, {@code nodes}, the ZooKeeper address, a stand-in scheduler that costs nothing ({@code exec sleep 1000019},
 * child mode), {@code ssh.enabled = false} (the nodes are names, not hosts with sshd), and a {@code
 * scheduler.process-pattern} that matches that stand-in alone ({@code ^sleep 1000019$}: not the deadman's watchdog,
 * whose command line holds the start command) with {@code scheduler.foreign = alert}: this machine is shared, and the
 * default pattern matches the stand-in Airflow schedulers of other runs, which the agents would stop (the default
 * {@code foreign = stop}) or report, one event written to ZooKeeper for each, as no deployment does. The foreign sweep
 * still runs (a scan of {@code /proc} every {@code check-interval} by each agent that runs a scheduler); it finds only
 * this run's stand-ins, each with another node's mark.
 *
 * <p>Figures over the window, from the servers' four-letter words: writes are the leader's zxid delta ({@code srvr}:
 * every transaction, exactly); reads are {@code zk_cnt_readlatency} of {@code mntr} summed over the three servers:
 * ZooKeeper counts there every request it answers without a transaction (getData, exists, getChildren, sync, and the
 * clients' pings), each on the server its client is connected to. Each run checks that counter first: a number of
 * {@code exists} calls must add exactly as many (give or take a ping). Watches and connections are summed over the
 * servers ({@code zk_watch_count}, {@code zk_num_alive_connections}), znodes are the leader's {@code zk_znode_count};
 * ensemble CPU is utime + stime of the three server processes ({@code /proc/<pid>/stat}).
 */
class ScaleBenchmark {
    private static final boolean QUICK = Boolean.getBoolean("bench.quick");
    private static final List<Integer> CLUSTERS = ints("bench.clusters", QUICK ? "1,2" : "1,10,50");
    private static final List<Integer> AGENTS = ints("bench.agents", "3,5");
    private static final Duration WARMUP = BenchmarkProperties.duration("bench.warmup", QUICK ? "10s" : "30s");
    private static final Duration WINDOW = BenchmarkProperties.duration("bench.window", QUICK ? "20s" : "60s");
    private static final Duration READY_TIMEOUT = BenchmarkProperties.duration("bench.ready-timeout", "240s");
    private static final Duration FAILOVER_TIMEOUT = BenchmarkProperties.duration("bench.failover-timeout", "120s");
    private static final int START_PARALLELISM = Integer.getInteger("bench.start-parallelism", 8);
    private static final List<String> ZK_JVM = List.of("-Xmx512m");
    private static final int CALIBRATION_READS = 200;
    private static final String ROOT = "/airflow/failover";
    private static final Path OUT = Path.of("target", "scale-benchmark");
    /**
     * The node whose crash is measured: cluster c01's second, which becomes its ACTIVE and runs its scheduler once
     * the first's session has expired (the next in the election's order, the first eligible node after it).
     */
    private static final String VICTIM = "c01-b";

    @TempDir
    Path tmp;

    /** One K × N: what was measured, or why it was not. */
    record Row(
            int clusters,
            int agents,
            String outcome,
            double seconds,
            double writesPerSecond,
            double readsPerSecond,
            double packetsInPerSecond,
            long watches,
            long znodes,
            long connections,
            double ensembleCpu,
            double agentsJvmCpu,
            double machineBusy,
            int suspended,
            int lost,
            long crashMs,
            long expireMs,
            String failoverNote,
            long calibrationDelta,
            String load) {
        int total() {
            return clusters * agents;
        }

        boolean measured() {
            return outcome.equals("ok");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.MINUTES)
    void clustersTimesAgentsAgainstOneEnsemble() throws Exception {
        Distribution dist = Distribution.unpack(tmp);
        List<int[]> grid = new ArrayList<>();
        for (int k : CLUSTERS) {
            for (int n : AGENTS) {
                grid.add(new int[] {k, n});
            }
        }
        grid.sort(Comparator.comparingInt((int[] g) -> g[0] * g[1]).thenComparingInt(g -> g[0]));
        System.out.printf(
                "scale: %s (K x N), warm-up %ss, window %ss each%n",
                grid.stream().map(g -> g[0] + "x" + g[1]).toList(), WARMUP.toSeconds(), WINDOW.toSeconds());
        Instant started = Instant.now();
        String uptimeBefore = uptime();
        List<Row> rows = new ArrayList<>();
        for (int[] g : grid) {
            Row row = run(dist, g[0], g[1]);
            rows.add(row);
            System.out.println("scale: " + row);
        }
        String report = report(rows, started, uptimeBefore, uptime());
        System.out.print(report);
        Files.createDirectories(OUT);
        Files.writeString(Path.of("target", "scale-benchmark.md"), report, StandardCharsets.UTF_8);
    }

    private Row run(Distribution dist, int k, int n) throws Exception {
        Path base = OUT.resolve(k + "x" + n).toAbsolutePath();
        deleteTree(base);
        Files.createDirectories(base);
        System.out.printf("scale: %dx%d: starting the ensemble%n", k, n);
        try (LoopbackEnsemble ensemble = LoopbackEnsemble.start(dist, base, ZK_JVM);
                Proxies victim = new Proxies(ensemble);
                InProcessAgents agents = new InProcessAgents(base.resolve("agents"));
                CuratorFramework observer = CuratorFrameworkFactory.newClient(
                        ensemble.connectString(), 30_000, 10_000, new RetryOneTime(500))) {
            observer.start();
            observer.blockUntilConnected();
            long calibration = calibrate(ensemble, observer);
            List<String> clusters = IntStream.rangeClosed(1, k)
                    .mapToObj(i -> String.format(Locale.ROOT, "c%02d", i))
                    .toList();
            // Each cluster's nodes in the order of `nodes`, one at a time (the clusters in parallel): the first is
            // the ACTIVE and runs the scheduler (the policy places it on the first eligible node of `nodes`), and
            // the election's order is that of `nodes`, so that after the first the second is both ACTIVE and the
            // scheduler's node, and so on: each failover below then fails the ACTIVE that runs the scheduler.
            long t0 = System.nanoTime();
            startAll(agents, ensemble, victim, clusters, n, 0);
            await("every cluster's first node ACTIVE")
                    .atMost(READY_TIMEOUT)
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> allOf(clusters, c -> isActive(observer, c, node(c, 0))));
            for (int i = 1; i < n; i++) {
                startAll(agents, ensemble, victim, clusters, n, i);
            }
            try {
                await("every cluster with " + n + " agents, one running scheduler on its first node")
                        .atMost(READY_TIMEOUT)
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> allOf(clusters, c -> ready(observer, c, n)));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                return failed(
                        k,
                        n,
                        "not ready within " + READY_TIMEOUT.toSeconds() + " s: " + notReady(observer, clusters, n),
                        agents,
                        calibration);
            }
            System.out.printf(
                    "scale: %dx%d: %d agents ready after %.1f s; warming up %ss%n",
                    k, n, agents.size(), (System.nanoTime() - t0) / 1e9, WARMUP.toSeconds());
            Thread.sleep(WARMUP.toMillis()); // a benchmark's warm-up: the agents are left alone

            List<LoopbackEnsemble.Server> servers = ensemble.servers();
            LoopbackEnsemble.Server leader = ensemble.leader();
            long ticks = clockTicks();
            int suspended0 = agents.suspensions();
            int lost0 = agents.losses();
            long cpu0 = servers.stream().mapToLong(s -> cpuTicks(s.pid())).sum();
            long self0 = cpuTicks(ProcessHandle.current().pid());
            long[] machine0 = machineTicks();
            long reads0 = sum(servers, "zk_cnt_readlatency");
            long packets0 = sum(servers, "zk_packets_received");
            long zxid0 = leader.zxid();
            long w0 = System.nanoTime();
            Thread.sleep(WINDOW.toMillis());
            long zxid1 = leader.zxid();
            long reads1 = sum(servers, "zk_cnt_readlatency");
            long packets1 = sum(servers, "zk_packets_received");
            long cpu1 = servers.stream().mapToLong(s -> cpuTicks(s.pid())).sum();
            long self1 = cpuTicks(ProcessHandle.current().pid());
            long[] machine1 = machineTicks();
            double seconds = (System.nanoTime() - w0) / 1e9;
            String load = Files.readString(Path.of("/proc/loadavg")).trim();
            long watches = sum(servers, "zk_watch_count");
            long connections = sum(servers, "zk_num_alive_connections");
            long znodes = Long.parseLong(leader.mntr().get("zk_znode_count"));
            if (!leader.mode().equals("leader") || (zxid1 >>> 32) != (zxid0 >>> 32)) {
                return failed(k, n, "the ZooKeeper leader changed during the window", agents, calibration);
            }
            double busy = 100.0
                    * ((machine1[0] - machine0[0]) - (machine1[1] - machine0[1]))
                    / Math.max(1, machine1[0] - machine0[0]);
            int suspended = agents.suspensions() - suspended0;
            int lost = agents.losses() - lost0;

            System.out.printf("scale: %dx%d: window done; failing over cluster c01 (session expiry)%n", k, n);
            Failover expiry = failover(observer, "c01", active -> agents.expireSession("c01", active));
            System.out.printf("scale: %dx%d: expiry: %s; failing over cluster c01 (crash)%n", k, n, expiry);
            await("c01's first node back after its session's expiry")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> observer.getChildren()
                                    .forPath(new ZkPaths(ROOT, "c01").agents())
                                    .size()
                            == n);
            Failover crash = failover(observer, "c01", active -> {
                long before = System.nanoTime();
                victim.cut(); // the note says whether it was the ACTIVE and ran the scheduler, as planned
                return before;
            });
            System.out.printf("scale: %dx%d: crash: %s%n", k, n, crash);
            victim.restore(); // the crashed agent rejoins, so that it closes as the others do
            String note = "expiry: " + expiry.note() + "; crash: " + crash.note();
            return new Row(
                    k,
                    n,
                    "ok",
                    seconds,
                    (zxid1 - zxid0) / seconds,
                    (reads1 - reads0) / seconds,
                    (packets1 - packets0) / seconds,
                    watches,
                    znodes,
                    connections,
                    100.0 * (cpu1 - cpu0) / ticks / seconds,
                    100.0 * (self1 - self0) / ticks / seconds,
                    busy,
                    suspended,
                    lost,
                    crash.millis(),
                    expiry.millis(),
                    note,
                    calibration,
                    load);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            return failed(k, n, "could not run: " + firstLine(e.getMessage()), null, -1);
        } finally {
            System.out.printf("scale: %dx%d: stopped%n", k, n);
        }
    }

    private static Row failed(int k, int n, String why, InProcessAgents agents, long calibration) {
        return new Row(
                k,
                n,
                why,
                0,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                -1,
                -1,
                -1,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                agents == null ? -1 : agents.suspensions(),
                agents == null ? -1 : agents.losses(),
                -1,
                -1,
                "",
                calibration,
                loadavg());
    }

    /**
     * Checks the read counter: {@value #CALIBRATION_READS} {@code exists} by the observer must add as many to {@code
     * zk_cnt_readlatency} summed over the servers. Returns the delta seen.
     */
    private static long calibrate(LoopbackEnsemble ensemble, CuratorFramework observer) throws Exception {
        ZooKeeper zk = observer.getZookeeperClient().getZooKeeper();
        long before = sum(ensemble.servers(), "zk_cnt_readlatency");
        for (int i = 0; i < CALIBRATION_READS; i++) {
            zk.exists("/", false);
        }
        long after = sum(ensemble.servers(), "zk_cnt_readlatency");
        return after - before;
    }

    private static void startAll(
            InProcessAgents agents, LoopbackEnsemble ensemble, Proxies victim, List<String> clusters, int n, int which)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(START_PARALLELISM);
        try {
            List<Future<?>> started = new ArrayList<>();
            for (int i : List.of(which)) {
                for (String c : clusters) {
                    String node = node(c, i);
                    String nodes = String.join(
                            ", ",
                            IntStream.range(0, n).mapToObj(j -> node(c, j)).toList());
                    Path conf = agents.writeConf(
                            c,
                            node,
                            """
                            asfc {
                              cluster = %s
                              node.id = %s
                              nodes = [%s]
                              zookeeper.connect = "%s"
                              scheduler.start-command = "exec sleep 1000019"
                              scheduler.process-pattern = "^sleep 1000019$"
                              scheduler.foreign = alert
                              ssh.enabled = false
                            }
                            """
                                    .formatted(
                                            c,
                                            node,
                                            nodes,
                                            node.equals(VICTIM) ? victim.connectString() : ensemble.connectString()));
                    started.add(pool.submit(() -> agents.start(c, node, conf)));
                }
            }
            for (Future<?> f : started) {
                f.get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** What fails the ACTIVE: returns {@link System#nanoTime()} at the fault. */
    private interface Fault {
        long inject(String active) throws Exception;
    }

    /** One failover: its time in ms (-1: none within the timeout) and what it was. */
    record Failover(long millis, String note) {}

    /**
     * Fails cluster {@code c}'s ACTIVE with {@code fault} and measures until the scheduler runs on another node: the
     * assignment names another node and that node's agent reports its scheduler running.
     */
    private static Failover failover(CuratorFramework observer, String c, Fault fault) throws Exception {
        ZkPaths paths = new ZkPaths(ROOT, c);
        String active = read(observer, paths.active(), ActiveRecord.class)
                .map(ActiveRecord::node)
                .orElseThrow();
        String holder = read(observer, paths.scheduler(), Assignment.class)
                .map(Assignment::node)
                .orElseThrow();
        String what = active.equals(holder)
                ? active + " (ACTIVE, ran the scheduler)"
                : active + " (ACTIVE; " + holder + " ran the scheduler)";
        long t0 = fault.inject(active);
        long deadline = t0 + FAILOVER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> now =
                    read(observer, paths.scheduler(), Assignment.class).map(Assignment::node);
            if (now.isPresent() && !now.get().equals(holder)) {
                boolean running = read(observer, paths.agent(now.get()), AgentRecord.class)
                        .map(r -> r.scheduler().running())
                        .orElse(false);
                if (running) {
                    return new Failover((System.nanoTime() - t0) / 1_000_000, what + " -> " + now.get());
                }
            }
            Thread.sleep(20);
        }
        return new Failover(-1, what + " -> none");
    }

    /**
     * Three TCP proxies, one to each server, for {@link #VICTIM}: cutting them is that agent's crash (as
     * {@code kill -9} or a dead host: no more packets, and its session expires at the servers after its timeout).
     */
    static final class Proxies implements AutoCloseable {
        private final List<ZkProxy> proxies = new ArrayList<>();

        Proxies(LoopbackEnsemble ensemble) throws IOException {
            for (LoopbackEnsemble.Server s : ensemble.servers()) {
                proxies.add(new ZkProxy(s.clientPort()));
            }
        }

        String connectString() {
            return String.join(",", proxies.stream().map(ZkProxy::connectString).toList());
        }

        void cut() throws IOException {
            for (ZkProxy p : proxies) {
                p.cut();
            }
        }

        void restore() throws IOException {
            for (ZkProxy p : proxies) {
                p.restore();
            }
        }

        @Override
        public void close() throws IOException {
            cut();
        }
    }

    private interface Check {
        boolean test(String cluster) throws Exception;
    }

    private static boolean allOf(List<String> clusters, Check check) throws Exception {
        for (String c : clusters) {
            if (!check.test(c)) {
                return false;
            }
        }
        return true;
    }

    private static String node(String cluster, int i) {
        return cluster + "-" + (char) ('a' + i);
    }

    private static boolean isActive(CuratorFramework observer, String c, String node) throws Exception {
        return read(observer, new ZkPaths(ROOT, c).active(), ActiveRecord.class)
                .map(a -> a.node().equals(node))
                .orElse(false);
    }

    private static boolean ready(CuratorFramework observer, String c, int n) throws Exception {
        ZkPaths paths = new ZkPaths(ROOT, c);
        String first = node(c, 0);
        List<String> live;
        try {
            live = observer.getChildren().forPath(paths.agents());
        } catch (KeeperException.NoNodeException e) {
            return false;
        }
        return live.size() == n
                && isActive(observer, c, first)
                && read(observer, paths.scheduler(), Assignment.class)
                        .map(a -> first.equals(a.node()))
                        .orElse(false)
                && read(observer, paths.agent(first), AgentRecord.class)
                        .map(r -> r.scheduler().running())
                        .orElse(false);
    }

    private static String notReady(CuratorFramework observer, List<String> clusters, int n) {
        List<String> not = new ArrayList<>();
        for (String c : clusters) {
            try {
                if (!ready(observer, c, n)) {
                    not.add(c);
                }
            } catch (Exception e) {
                not.add(c + " (" + e + ")");
            }
        }
        return not.size() + " of " + clusters.size() + " clusters not ready: " + not;
    }

    private static <T> Optional<T> read(CuratorFramework observer, String path, Class<T> type) throws Exception {
        try {
            return Json.decode(path, observer.getData().forPath(path), type);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    private static long sum(List<LoopbackEnsemble.Server> servers, String figure) throws IOException {
        long total = 0;
        for (LoopbackEnsemble.Server s : servers) {
            String value = s.mntr().get(figure);
            if (value == null) {
                throw new AssertionError("no " + figure + " in mntr of server " + s.id());
            }
            total += (long) Double.parseDouble(value);
        }
        return total;
    }

    // ---- the report

    private static String report(List<Row> rows, Instant started, String uptimeBefore, String uptimeAfter) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "%nscale: started %s, warm-up %ds, window %ds per K x N, %d CPUs%n",
                started,
                WARMUP.toSeconds(),
                WINDOW.toSeconds(),
                Runtime.getRuntime().availableProcessors()));
        out.append("uptime before: ").append(uptimeBefore).append('\n');
        out.append("uptime after:  ").append(uptimeAfter).append('\n');
        out.append('\n');
        out.append("| K x N | agents | writes/s | reads/s | packets in/s | watches | znodes | connections"
                + " | ensemble CPU (% of one core) | agents' JVM CPU (%) | machine busy (%) | SUSPENDED / LOST"
                + " in window | c01 failover, ACTIVE's session expired (ms) | c01 failover, ACTIVE crashed (ms)"
                + " | read-counter check |\n");
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            if (!r.measured()) {
                out.append(String.format(
                        Locale.ROOT,
                        "| %dx%d | %d | %s | | | | | | | | | %d / %d | | | %s |%n",
                        r.clusters(),
                        r.agents(),
                        r.total(),
                        r.outcome(),
                        r.suspended(),
                        r.lost(),
                        r.calibrationDelta() < 0 ? "" : r.calibrationDelta() + "/" + CALIBRATION_READS));
                continue;
            }
            out.append(String.format(
                    Locale.ROOT,
                    "| %dx%d | %d | %.2f | %.1f | %.1f | %d | %d | %d | %.1f | %.1f | %.0f | %d / %d | %s | %s | %d/%d"
                            + " |%n",
                    r.clusters(),
                    r.agents(),
                    r.total(),
                    r.writesPerSecond(),
                    r.readsPerSecond(),
                    r.packetsInPerSecond(),
                    r.watches(),
                    r.znodes(),
                    r.connections(),
                    r.ensembleCpu(),
                    r.agentsJvmCpu(),
                    r.machineBusy(),
                    r.suspended(),
                    r.lost(),
                    millis(r.expireMs()),
                    millis(r.crashMs()),
                    r.calibrationDelta(),
                    CALIBRATION_READS));
        }
        List<Row> measured = rows.stream().filter(Row::measured).toList();
        out.append('\n');
        if (measured.size() >= 2) {
            out.append("Least-squares fit against total agents K x N (y = slope x + intercept), over ")
                    .append(measured.size())
                    .append(" measured configurations:\n\n");
            out.append("| figure | per agent (slope) | intercept | R² |\n|---|---|---|---|\n");
            fit(out, measured, "writes/s", Row::writesPerSecond);
            fit(out, measured, "reads/s", Row::readsPerSecond);
            fit(out, measured, "packets in/s", Row::packetsInPerSecond);
            fit(out, measured, "watches", r -> r.watches());
            fit(out, measured, "znodes", r -> r.znodes());
            fit(out, measured, "connections", r -> r.connections());
            fit(out, measured, "ensemble CPU, % of one core", Row::ensembleCpu);
            fit(out, measured, "agents' JVM CPU, % of one core", Row::agentsJvmCpu);
            List<Row> crashed = measured.stream().filter(r -> r.crashMs() >= 0).toList();
            if (crashed.size() >= 2) {
                fit(out, crashed, "failover after a crash, ms", r -> r.crashMs());
            }
            List<Row> expired = measured.stream().filter(r -> r.expireMs() >= 0).toList();
            if (expired.size() >= 2) {
                fit(out, expired, "failover after an expiry, ms", r -> r.expireMs());
            }
        }
        out.append('\n');
        for (Row r : rows) {
            out.append(String.format(
                    Locale.ROOT,
                    "%dx%d: %s; window %.1f s; load average at the end of the window %s; failovers: %s%n",
                    r.clusters(),
                    r.agents(),
                    r.outcome(),
                    r.seconds(),
                    r.load(),
                    r.failoverNote()));
        }
        return out.toString();
    }

    private static String millis(long ms) {
        return ms < 0 ? "none in " + FAILOVER_TIMEOUT.toSeconds() + " s" : Long.toString(ms);
    }

    private static void fit(StringBuilder out, List<Row> rows, String name, ToDoubleFunction<Row> y) {
        double[] xs = rows.stream().mapToDouble(Row::total).toArray();
        double[] ys = rows.stream().mapToDouble(y).toArray();
        double mx = Arrays.stream(xs).average().orElse(0);
        double my = Arrays.stream(ys).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < xs.length; i++) {
            sxy += (xs[i] - mx) * (ys[i] - my);
            sxx += (xs[i] - mx) * (xs[i] - mx);
            syy += (ys[i] - my) * (ys[i] - my);
        }
        double slope = sxx == 0 ? Double.NaN : sxy / sxx;
        double intercept = my - slope * mx;
        double r2 = sxx == 0 || syy == 0 ? Double.NaN : (sxy * sxy) / (sxx * syy);
        out.append(String.format(Locale.ROOT, "| %s | %.4f | %.2f | %.3f |%n", name, slope, intercept, r2));
    }

    // ---- /proc and the machine

    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15)
        } catch (IOException e) {
            throw new AssertionError("cannot read the CPU time of process " + pid, e);
        }
    }

    /** The machine's total and idle (idle + iowait) clock ticks, from {@code /proc/stat}. */
    private static long[] machineTicks() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
        long[] f = Arrays.stream(cpu.substring("cpu".length()).trim().split("\\s+"))
                .mapToLong(Long::parseLong)
                .toArray();
        long total = 0;
        for (int i = 0; i < Math.min(8, f.length); i++) { // user .. steal; guest is inside user
            total += f[i];
        }
        return new long[] {total, f[3] + f[4]};
    }

    private static long clockTicks() throws IOException, InterruptedException {
        Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
        String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        getconf.waitFor();
        return out.isEmpty() ? 100 : Long.parseLong(out);
    }

    private static String uptime() {
        try {
            Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            return out;
        } catch (IOException e) {
            return loadavg();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return loadavg();
        }
    }

    private static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String firstLine(String text) {
        return text == null ? "" : text.lines().findFirst().orElse("");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static List<Integer> ints(String property, String fallback) {
        return Arrays.stream(System.getProperty(property, fallback).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(Integer::parseInt)
                .toList();
    }
}
