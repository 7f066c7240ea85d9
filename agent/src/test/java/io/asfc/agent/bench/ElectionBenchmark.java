package io.asfc.agent.bench;

import static org.awaitility.Awaitility.await;

import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.zk.ActiveRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Takeover benchmark (prints a table; asserts nothing about speed). Not part of the normal test
 * run; see docs/BENCHMARKS.md for the command.
 *
 * <ul>
 *   <li>crash: the ACTIVE agent's connection is cut without closing its session, like kill -9 or
 *       a dead host; measured until the {@code active} znode names another node;
 *   <li>graceful: the ACTIVE agent is closed as on SIGTERM.
 * </ul>
 */
class ElectionBenchmark {
    private static final int TRIALS = Integer.getInteger("bench.trials", 20);

    @Test
    void takeoverTimes() throws Exception {
        Path dir = Files.createTempDirectory("asfc-bench");
        List<Long> crash = new ArrayList<>();
        List<Long> graceful = new ArrayList<>();
        try (TestingServer server = new TestingServer(true)) {
            for (int i = 0; i < TRIALS; i++) {
                crash.add(trial(server, dir, true));
                graceful.add(trial(server, dir, false));
            }
        }
        System.out.printf(
                "%nElection takeover, %d trials each, session-timeout %dms, heartbeat %dms, in-process ZooKeeper%n",
                TRIALS, TestAgents.SESSION.toMillis(), TestAgents.HEARTBEAT.toMillis());
        System.out.println("| scenario | median ms | p95 ms | max ms |");
        System.out.println("|---|---|---|---|");
        row("ACTIVE crashes (session not closed) → new ACTIVE", crash);
        row("ACTIVE stops gracefully (SIGTERM) → new ACTIVE", graceful);
    }

    private static long trial(TestingServer server, Path dir, boolean crash) throws Exception {
        Map<String, ZkProxy> proxies = new HashMap<>();
        try (TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            for (String node : List.of("a", "b", "c")) {
                ZkProxy proxy = new ZkProxy(server.getPort());
                proxies.put(node, proxy);
                agents.start(node, proxy.connectString());
            }
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> agents.soleActive().isPresent());
            String old = agents.soleActive().orElseThrow();
            long start = System.nanoTime();
            if (crash) {
                proxies.get(old).cut();
            } else {
                agents.stop(old);
            }
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> agents.active()
                            .map(ActiveRecord::node)
                            .filter(n -> !n.equals(old))
                            .isPresent());
            return (System.nanoTime() - start) / 1_000_000;
        } finally {
            for (ZkProxy p : proxies.values()) {
                p.close();
            }
        }
    }

    private static void row(String name, List<Long> samples) {
        long[] s = samples.stream().mapToLong(Long::longValue).sorted().toArray();
        long median = s[s.length / 2];
        long p95 = s[(int) Math.ceil(s.length * 0.95) - 1];
        System.out.printf("| %s | %d | %d | %d |%n", name, median, p95, s[s.length - 1]);
        System.out.println("  samples: " + Arrays.toString(s));
    }
}
