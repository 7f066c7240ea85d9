package io.asfc.agent.bench;

import static org.awaitility.Awaitility.await;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ActiveRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Supervision benchmark (prints a table; asserts nothing about speed). Not part of the normal test
 * run; see docs/BENCHMARKS.md for the command.
 */
class SupervisionBenchmark {
    private static final int TRIALS = Integer.getInteger("bench.trials", 20);
    private static final String TIMINGS =
            """

            asfc.scheduler { restart-sleep = 200ms, check-interval = 200ms, stop-timeout = 3s,
                             max-restarts-before-failover = 1000 }
            """;

    @Test
    void restartAndControllerFailoverFigures() throws Exception {
        List<Long> child = killLoop("child", "");
        List<Long> command = killLoop("command", "--daemon --pid-file ${PID}");
        int restarts = controllerFailoverRestarts();
        System.out.printf(
                "%nScheduler supervision, %d trials, restart-sleep 200ms, check-interval 200ms, stand-in scheduler%n",
                TRIALS);
        System.out.println("| scenario | median ms | p95 ms | max ms |");
        System.out.println("|---|---|---|---|");
        row("scheduler killed (-9) → running again, child mode", child);
        row("scheduler killed (-9) → running again, command mode (pid-file)", command);
        System.out.printf(
                "%nController failovers (ACTIVE agent stopped) while the scheduler runs elsewhere: %d trials,"
                        + " scheduler restarts caused: %d%n",
                TRIALS, restarts);
    }

    private static List<Long> killLoop(String mode, String args) throws Exception {
        Path dir = Files.createTempDirectory("asfc-bench-" + mode);
        StandIn standIn = new StandIn(dir);
        String pidFile = dir.resolve("scheduler.pid").toString();
        String conf = TIMINGS
                + standIn.config("a", args.replace("${PID}", pidFile))
                + (mode.equals("command")
                        ? "\nasfc.scheduler { mode = command, pid-file = \"" + pidFile + "\" }\n"
                        : "");
        List<Long> samples = new ArrayList<>();
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            agents.start("a", server.getConnectString(), conf);
            for (int i = 0; i < TRIALS; i++) {
                ProcessInfo main = awaitMain(standIn);
                long start = System.nanoTime();
                ProcessHandle.of(main.pid()).orElseThrow().destroyForcibly();
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(5))
                        .until(() -> {
                            ProcessInfo now = standIn.mains().get("a");
                            return now != null && now.pid() != main.pid();
                        });
                samples.add((System.nanoTime() - start) / 1_000_000);
            }
        } finally {
            standIn.killAll();
        }
        return samples;
    }

    private static int controllerFailoverRestarts() throws Exception {
        Path dir = Files.createTempDirectory("asfc-bench-ctl");
        StandIn standIn = new StandIn(dir);
        int restarts = 0;
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            for (String node : List.of("a", "b", "c")) {
                agents.start(node, server.getConnectString(), TIMINGS + standIn.config(node, ""));
            }
            for (int i = 0; i < TRIALS; i++) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> agents.soleActive().isPresent()
                                && standIn.mains().size() == 1);
                String leader = agents.active().map(ActiveRecord::node).orElseThrow();
                String runner = standIn.mains().keySet().iterator().next();
                if (leader.equals(runner)) { // the scheduler must run away from the leader: move it
                    String other = List.of("a", "b", "c").stream()
                            .filter(n -> !n.equals(leader))
                            .findFirst()
                            .orElseThrow();
                    requestFailover(agents, other, "bench-" + i);
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> standIn.mains().keySet().equals(java.util.Set.of(other)));
                    runner = other;
                }
                ProcessInfo before = standIn.mains().get(runner);
                long epoch = agents.epoch();
                agents.stop(leader);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> agents.epoch() > epoch
                                && agents.assignment().orElseThrow().epoch() == agents.epoch());
                ProcessInfo after = standIn.mains().get(runner);
                if (after == null || after.pid() != before.pid()) {
                    restarts++;
                }
                agents.start(leader, server.getConnectString(), TIMINGS + standIn.config(leader, ""));
            }
        } finally {
            standIn.all().forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
        }
        return restarts;
    }

    private static void requestFailover(TestAgents agents, String target, String id) throws Exception {
        ControlWriter.update(
                agents.observer(), agents.paths(), c -> c.withRequest(target, id, java.time.Instant.now()));
    }

    private static ProcessInfo awaitMain(StandIn standIn) {
        AtomicReference<ProcessInfo> main = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            main.set(standIn.mains().get("a"));
            return main.get() != null;
        });
        return main.get();
    }

    private static void row(String name, List<Long> samples) {
        long[] s = samples.stream().mapToLong(Long::longValue).sorted().toArray();
        long median = s[s.length / 2];
        long p95 = s[(int) Math.ceil(s.length * 0.95) - 1];
        System.out.printf("| %s | %d | %d | %d |%n", name, median, p95, s[s.length - 1]);
        System.out.println("  samples: " + Arrays.toString(s));
    }
}
