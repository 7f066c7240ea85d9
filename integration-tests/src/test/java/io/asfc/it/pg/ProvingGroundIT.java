package io.asfc.it.pg;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.it.pg.Scenarios.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The proving ground (test layer 3): three scheduler hosts with an agent, one agentless scheduler host and three
 * ZooKeeper hosts made of namespaces, real sshd, a real ensemble and the real agents, put through every fault of the catalogue while an observer watches every
 * host's processes. Fails on any overlap of two schedulers (S1) and on any recovery slower than the L1 bound. Times
 * are reported, never asserted.
 *
 * <ul>
 *   <li>{@code -Dpg.suite=quick} (default): every scenario once ({@code -Dpg.rounds=N}: N times, for benchmarks;
 *       {@code -Dpg.scenarios=name,name}: only those).
 *   <li>{@code -Dpg.suite=soak -Dpg.duration=15m -Dpg.seed=N}: scenarios drawn at random from a seed until the
 *       duration is up; the same seed draws the same sequence.
 * </ul>
 *
 * Writes {@code target/proving-ground/<suite>-report.json} and {@code .md}. Needs root: skips otherwise, and fails
 * where {@code CI=true}.
 */
// A hang must not hang the build; longer than the 20 m default, as the quick suite takes ~15 min; a longer soak runs
// with -Djunit.jupiter.execution.timeout.mode=disabled.
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class ProvingGroundIT {

    private static final Path BASE = Path.of("target", "proving-ground").toAbsolutePath();
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(10);

    @Test
    void atMostOneSchedulerUnderEveryFault() throws Exception {
        requireEnvironment();
        String suite = System.getProperty("pg.suite", "quick");
        Path runDir = BASE.resolve("run");
        deleteRecursively(runDir);
        long start = System.nanoTime();
        Report report;
        try (ProvingGround pg = ProvingGround.build(runDir, Tunings.DEFAULT)) {
            Scenarios scenarios = new Scenarios(pg, start);
            List<Scenario> plan;
            String description;
            long deadline;
            if (suite.equals("soak")) {
                Duration duration = duration(System.getProperty("pg.duration", "15m"));
                long seed = Long.getLong("pg.seed", System.currentTimeMillis());
                plan = soakPlan(scenarios.quick(), new Random(seed));
                deadline = System.nanoTime() + duration.toNanos();
                description = "Soak: scenarios drawn at random with seed " + seed + " for " + duration.toMinutes()
                        + " min (-Dpg.suite=soak -Dpg.duration=" + System.getProperty("pg.duration", "15m")
                        + " -Dpg.seed=" + seed + ").";
            } else {
                int rounds = Integer.getInteger("pg.rounds", 1);
                List<String> only = List.of(
                                System.getProperty("pg.scenarios", "").split(","))
                        .stream()
                        .filter(s -> !s.isBlank())
                        .toList();
                plan = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    scenarios.quick().stream()
                            .filter(s -> only.isEmpty() || only.contains(s.name()))
                            .forEach(plan::add);
                }
                deadline = Long.MAX_VALUE;
                description = "Quick: every scenario " + (rounds == 1 ? "once" : rounds + " times") + ".";
            }
            report = new Report(suite, description, pg.tunings());
            report.idle(measureIdle(pg));
            for (Scenario scenario : plan) {
                if (System.nanoTime() - deadline > 0) {
                    break;
                }
                if (!run(pg, scenario, report, start)) {
                    break; // the cluster could not be brought back: later scenarios would measure nothing
                }
            }
            report.sampling(pg.observer().samplingSummary());
            report.wholeRun(pg.observer().window(start, System.nanoTime()));
            report.witnesses(
                    pg.observer().lifetimeOverlaps(start, System.nanoTime()).stream()
                            .map(Object::toString)
                            .toList(),
                    pg.observer().lifetimesSummary(),
                    pg.observer().problems());
            report.ticks(pg.ticks());
        }
        report.writeJson(BASE.resolve(suite + "-report.json"));
        report.writeMarkdown(BASE.resolve(suite + "-report.md"));
        System.out.println("\n" + report.markdown());
        List<String> problems = report.problems();
        assertTrue(
                problems.isEmpty(),
                () -> problems.size() + " problems (report in " + BASE + "):\n" + String.join("\n", problems));
    }

    /** Runs one scenario, then restores the baseline; false when the baseline could not be restored. */
    private static boolean run(ProvingGround pg, Scenario scenario, Report report, long start) {
        long at = (System.nanoTime() - start) / 1_000_000;
        long bound = pg.tunings().l1Bound().toMillis();
        System.out.printf("ProvingGroundIT: +%d ms %s%n", at, scenario.name());
        try {
            Outcome outcome = scenario.body().run();
            report.add(outcome);
            System.out.printf(
                    "ProvingGroundIT:   recovery %s ms, new ACTIVE %s ms, gap %d ms, overlap %d ms, restarts %d,"
                            + " scheduler %s, ACTIVE %s %s%n",
                    outcome.recoveryMillis(),
                    outcome.newActiveMillis(),
                    outcome.gapMillis(),
                    outcome.overlapMillis(),
                    outcome.restarts(),
                    outcome.schedulerPath(),
                    outcome.activePath(),
                    outcome.passed() ? "ok" : "FAIL " + outcome.problems());
        } catch (Exception | AssertionError e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            report.add(Outcome.failed(scenario.name(), at, bound, e.toString()));
            System.out.printf("ProvingGroundIT:   FAILED: %s%n", e);
        }
        try {
            pg.restoreBaseline();
            return true;
        } catch (Exception | AssertionError e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            report.add(Outcome.failed(scenario.name() + " (restore)", at, bound, e.toString()));
            return false;
        }
    }

    /** An endless-enough random sequence of the scenarios: the soak stops at its deadline. */
    private static List<Scenario> soakPlan(List<Scenario> catalogue, Random random) {
        List<Scenario> plan = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            plan.add(catalogue.get(random.nextInt(catalogue.size())));
        }
        return plan;
    }

    /** Every agent's RSS and CPU, and ZooKeeper's transactions, over {@link #IDLE_WINDOW} with nothing happening. */
    private static Report.Idle measureIdle(ProvingGround pg) throws IOException, InterruptedException {
        long ticksPerSecond = Long.parseLong(Sh.run("getconf", "CLK_TCK").trim());
        Map<String, long[]> before = new LinkedHashMap<>();
        for (HostAgent a : pg.agents().values()) {
            before.put(a.node(), a.rssKibAndCpuTicks());
        }
        long zxidBefore = pg.zk().leaderZxid().orElse(0L);
        long began = System.nanoTime();
        Thread.sleep(IDLE_WINDOW.toMillis()); // the measurement interval, not a wait for a condition
        double seconds = (System.nanoTime() - began) / 1e9;
        long zxidAfter = pg.zk().leaderZxid().orElse(zxidBefore);
        Map<String, Long> rss = new LinkedHashMap<>();
        Map<String, Double> cpu = new LinkedHashMap<>();
        for (HostAgent a : pg.agents().values()) {
            long[] after = a.rssKibAndCpuTicks();
            rss.put(a.node(), after[0]);
            cpu.put(a.node(), 100.0 * (after[1] - before.get(a.node())[1]) / ticksPerSecond / seconds);
        }
        double writes = (zxidAfter - zxidBefore) / seconds / pg.agents().size();
        return new Report.Idle(rss, cpu, writes, IDLE_WINDOW.toSeconds());
    }

    /** Skips (or, where CI=true, fails) when this machine cannot build the proving ground, saying why. */
    static void requireEnvironment() {
        if (!isRoot()) {
            unavailable(
                    "the proving ground needs root (network, PID, UTS and mount namespaces, iptables); tests run as "
                            + System.getProperty("user.name"));
        }
        for (String tool : List.of("ip", "iptables", "unshare", "nsenter", "ssh-keygen", "getconf", "stat")) {
            if (Sh.attempt("sh", "-c", "command -v " + tool).exitCode() != 0) {
                unavailable(tool + " is not installed (apt-get install iproute2 iptables util-linux openssh-client)");
            }
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/sshd")) && !Files.isExecutable(Path.of("/usr/bin/sshd"))) {
            unavailable("sshd is not installed (apt-get install openssh-server)");
        }
        if (!Files.isExecutable(Path.of(Host.PYTHON))) {
            unavailable(Host.PYTHON + " is missing: the stand-in scheduler needs it (apt-get install python3)");
        }
        var probe = Sh.attempt("unshare", "--pid", "--uts", "--mount", "--net", "--fork", "--mount-proc", "true");
        if (probe.exitCode() != 0) {
            unavailable("namespaces cannot be created here (a container without CAP_SYS_ADMIN?): " + probe.describe());
        }
        var iptables = Sh.attempt("unshare", "--net", "iptables", "-w", "-S");
        if (iptables.exitCode() != 0) {
            unavailable("iptables does not work in a network namespace here: " + iptables.describe());
        }
    }

    static void unavailable(String reason) {
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(reason);
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .anyMatch(line -> line.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false; // no /proc: not Linux, so no namespaces either
        }
    }

    /** {@code 90s}, {@code 15m}, {@code 2h}. */
    private static Duration duration(String text) {
        String t = text.trim();
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("pg.duration: use e.g. 90s, 15m or 2h, not " + text);
        };
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
