package io.asfc.agent.bench;

import static org.awaitility.Awaitility.await;

import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.testing.Lifetimes;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.Assignment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Whole-host freeze benchmark (issue 18; prints a table, asserts nothing about speed). Not part of the normal test
 * run (surefire runs {@code *Test} classes only); see docs/BENCHMARKS.md, "Whole-host freeze (no watchdog device)",
 * for the command. Needs root and a writable cgroup v1 freezer at {@code /sys/fs/cgroup/freezer}.
 *
 * <p>Each trial starts three real agents ({@link AgentProcess}: a JVM each) against an in-process ZooKeeper, at the
 * shipped timings (child mode, {@code stop-with-agent}, no {@code watchdog.device}), each agent's scheduler the
 * stand-in holding the lifetime lock ({@link Lifetimes}: the kernel's record of every scheduler's life). It then puts
 * the scheduler holder's whole "host" into a freezer cgroup of its own: the agent's JVM and every process of its tree
 * and of the sessions in it (the deadman shell and its watcher, the scheduler's process tree), and freezes it. A
 * frozen host sends nothing, so it is also cut off. Once another node's scheduler has started (its lifetime record
 * says it found the old one alive), the freeze goes on for {@code bench.freezeAfterTakeover} more, then the cgroup
 * is thawed. Measured from the lifetime records: thaw → the old scheduler's main process exited (the overlap after
 * the host resumes), and the whole overlap (which includes the frozen time, so grows with the freeze).
 */
class WholeHostFreezeBenchmark {
    private static final int TRIALS = Integer.getInteger("bench.trials", 5);
    private static final Duration AFTER_TAKEOVER = Duration.ofMillis(Long.getLong("bench.freezeAfterTakeoverMs", 5000));
    /**
     * Whether the frozen host also stays cut off from ZooKeeper after the thaw (its proxy cut at the freeze): then
     * only the deadman can stop its scheduler at once (the agent self-fences self-fence-after later). Without it, the
     * thawed agent reaches ZooKeeper again, learns that its session expired and self-fences too, racing the deadman.
     */
    private static final boolean CUT_OFF = Boolean.getBoolean("bench.cutOff");

    /**
     * Whether the agent's JVM stays stopped (SIGSTOP, queued while frozen) when the rest of its host thaws: the
     * deadman's own bound, for an agent that does not come back with its host (it is still stalled, or stuck). Without
     * it, the thawed agent presumes its session expired (Curator: no answer for the session timeout) within a few
     * hundred ms and self-fences, telling the deadman to stop the scheduler.
     */
    private static final boolean AGENT_STAYS_FROZEN = Boolean.getBoolean("bench.agentStaysFrozen");

    private static final Path FREEZER = Path.of("/sys/fs/cgroup/freezer");
    private static final List<String> NODES = List.of("a", "b", "c");

    /**
     * The shipped defaults where TestAgents sets test timings (session-timeout 10s is passed to it), and what three
     * agents on one machine need: three nodes, no SSH (a frozen host cannot be fenced: controller.on-unfenceable =
     * proceed, the default, takes over after takeover-grace), foreign schedulers of other tests only reported.
     */
    private static final String DEFAULTS =
            """

            asfc.nodes = [a, b, c]
            asfc.zookeeper { self-fence-after = 3s, connection-timeout = 5s }
            asfc.controller.heartbeat-interval = 5s
            asfc.scheduler.self-fence-stop-timeout = 5s
            """;

    record Trial(
            int n,
            String holder,
            String active,
            String newHolder,
            long takeoverMs,
            long frozenMs,
            long thawToExitMs,
            long thawToTreeGoneMs,
            long overlapMs,
            int overlaps,
            String stoppedBy,
            int frozenProcesses) {}

    @Test
    void wholeHostFreezeWithoutWatchdogDevice() throws Exception {
        if (!Files.isWritable(FREEZER.resolve("cgroup.procs"))) {
            throw new IllegalStateException(FREEZER + " is not a writable cgroup v1 freezer (run as root)");
        }
        List<Trial> trials = new ArrayList<>();
        for (int i = 1; i <= TRIALS; i++) {
            Trial t = trial(i);
            System.out.println("trial " + t);
            trials.add(t);
        }
        System.out.printf(
                "%nWhole-host freeze without watchdog.device%s: %d trials, freeze kept %d ms after the takeover,"
                        + " shipped timings (session-timeout 10s, self-fence-after 3s, takeover-grace 5s,"
                        + " deadman-timeout 9.7s, self-fence-stop-timeout 5s), child mode%n",
                (CUT_OFF ? ", host still cut off from ZooKeeper after the thaw" : ", network back at the thaw")
                        + (AGENT_STAYS_FROZEN ? ", the agent's JVM still stopped after the thaw" : ""),
                TRIALS,
                AFTER_TAKEOVER.toMillis());
        System.out.println("| trial | holder (ACTIVE) → new | freeze → other scheduler started ms | freeze length ms"
                + " | thaw → old scheduler exited ms | thaw → old tree gone ms | total overlap ms | stopped by |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Trial t : trials) {
            System.out.printf(
                    "| %d | %s (%s) → %s | %d | %d | %d | %d | %d%s | %s |%n",
                    t.n(),
                    t.holder(),
                    t.active(),
                    t.newHolder(),
                    t.takeoverMs(),
                    t.frozenMs(),
                    t.thawToExitMs(),
                    t.thawToTreeGoneMs(),
                    t.overlapMs(),
                    t.overlaps() == 1 ? "" : " (" + t.overlaps() + " overlaps)",
                    t.stoppedBy());
        }
        summary(
                "freeze → other scheduler started",
                trials.stream().map(Trial::takeoverMs).toList());
        summary("freeze length", trials.stream().map(Trial::frozenMs).toList());
        summary(
                "thaw → old scheduler exited",
                trials.stream().map(Trial::thawToExitMs).toList());
        summary(
                "thaw → old tree gone",
                trials.stream().map(Trial::thawToTreeGoneMs).toList());
        summary("total overlap", trials.stream().map(Trial::overlapMs).toList());
    }

    private Trial trial(int n) throws Exception {
        Path dir = Files.createTempDirectory("asfc-bench-freeze-" + n + "-");
        StandIn standIn = new StandIn(dir);
        Path cgroup = FREEZER.resolve("asfc-bench-" + ProcessHandle.current().pid() + "-" + n);
        Map<String, AgentProcess> processes = new LinkedHashMap<>();
        Map<String, ZkProxy> proxies = new LinkedHashMap<>();
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(dir, server.getConnectString(), Duration.ofSeconds(10));
                Lifetimes lifetimes = standIn.lifetimes()) {
            try { // the cgroup is thawed before the agents are closed: a frozen process does not even die of SIGKILL
                for (String node : NODES) {
                    ZkProxy proxy = new ZkProxy(server.getPort());
                    proxies.put(node, proxy);
                    processes.put(
                            node,
                            agents.startProcess(node, proxy.connectString(), DEFAULTS + scheduler(standIn, node)));
                }
                String holder = await("a scheduler runs, on the assigned node, reported by its agent")
                        .atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(100))
                        .until(
                                () -> {
                                    String assigned = agents.assignment()
                                            .map(Assignment::node)
                                            .orElse(null);
                                    return assigned != null
                                                    && agents.published().size() == NODES.size()
                                                    && agents.agentRecord(assigned)
                                                            .map(r -> r.scheduler()
                                                                    .running())
                                                            .orElse(false)
                                                    && runsOnlyUnder(standIn, processes.get(assigned))
                                            ? assigned
                                            : null;
                                },
                                h -> h != null);
                String active = agents.active().map(ActiveRecord::node).orElse("?");
                lifetimes.poll();
                AgentProcess frozen = processes.get(holder);

                Files.createDirectory(cgroup);
                Set<ProcessInfo> host = host(frozen.pid());
                for (ProcessInfo p : host) {
                    join(cgroup, p.pid());
                }
                host = host(frozen.pid()); // what forked while the first list was written
                for (ProcessInfo p : host) {
                    join(cgroup, p.pid());
                }
                Files.writeString(cgroup.resolve("freezer.state"), "FROZEN");
                await("the freezer cgroup is frozen")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(1))
                        .until(() -> state(cgroup).equals("FROZEN"));
                long frozenAt = System.nanoTime();
                if (CUT_OFF) {
                    proxies.get(holder).cut();
                }
                Set<Long> inCgroup = procs(cgroup);
                Set<ProcessInfo> after = host(frozen.pid());
                List<ProcessInfo> missing =
                        after.stream().filter(p -> !inCgroup.contains(p.pid())).toList();
                if (!missing.isEmpty()) {
                    throw new IllegalStateException("part of the host is not frozen: " + missing);
                }
                System.out.printf(
                        "%ntrial %d: froze %s's host (ACTIVE: %s), %d processes:%n%s%n",
                        n,
                        holder,
                        active,
                        after.size(),
                        after.stream()
                                .map(p -> "  pid " + p.pid() + " sid " + p.sid() + " " + abbreviate(p.cmdline()))
                                .collect(Collectors.joining("\n")));

                Lifetimes.Overlap takeover = await("another node's scheduler starts (its lifetime record)")
                        .atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(5))
                        .until(
                                () -> {
                                    lifetimes.poll();
                                    return lifetimes.overlaps().stream()
                                            .findFirst()
                                            .orElse(null);
                                },
                                o -> o != null);
                long until = takeover.fromNanos() + AFTER_TAKEOVER.toNanos();
                while (System.nanoTime() - until < 0) {
                    Thread.sleep(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                }

                if (AGENT_STAYS_FROZEN) {
                    signal("STOP", frozen.pid()); // pending while frozen: the JVM stops as it thaws
                }
                Files.writeString(cgroup.resolve("freezer.state"), "THAWED");
                long thawedAt = System.nanoTime();
                LocalTime thawClock = LocalTime.now(); // the agents' log's clock
                List<ProcessInfo> old =
                        after.stream().filter(p -> p.pid() != frozen.pid()).toList();
                long treeGone = await("the old host's scheduler tree and deadman are gone")
                        .atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(2))
                        .until(
                                () -> old.stream().noneMatch(TreeStopper::isAlive) ? System.nanoTime() : null,
                                t -> t != null);
                Lifetimes.Overlap ended = await("the old scheduler's main process ended (lifetime lock)")
                        .atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(5))
                        .until(
                                () -> {
                                    lifetimes.poll();
                                    return lifetimes.overlaps().get(0);
                                },
                                o -> o.toNanos() >= 0);
                if (AGENT_STAYS_FROZEN) {
                    signal("CONT", frozen.pid());
                }
                // then watch a while: a thawed agent must not start its scheduler again
                Thread.sleep(5_000);
                lifetimes.poll();
                String newHolder = agents.assignment().map(Assignment::node).orElse("?");
                return new Trial(
                        n,
                        holder,
                        active,
                        newHolder + " (" + takeover.host() + ")",
                        (takeover.fromNanos() - frozenAt) / 1_000_000,
                        (thawedAt - frozenAt) / 1_000_000,
                        (ended.toNanos() - thawedAt) / 1_000_000,
                        (treeGone - thawedAt) / 1_000_000,
                        lifetimes.overlapMillis(),
                        lifetimes.overlaps().size(),
                        stoppedBy(dir, holder, frozen, thawClock),
                        after.size());
            } finally {
                cleanUp(cgroup);
            }
        } finally {
            cleanUp(cgroup);
            processes.values().forEach(AgentProcess::close);
            for (ZkProxy proxy : proxies.values()) {
                proxy.close();
            }
            standIn.killAll();
            removeCgroup(cgroup);
        }
    }

    /**
     * The scheduler: the lifetime-lock wrapper (lifetime_exec.py, the same process) running a shell with two children,
     * a small process tree. Not the stand-in: its title ("airflow scheduler") matches the default process-pattern,
     * and agents of other runs on a shared machine (at the default foreign = stop) would stop it as a foreign
     * scheduler.
     */
    private static String scheduler(StandIn standIn, String node) {
        return "\nasfc.scheduler.start-command = \"\"\"exec " + StandIn.PYTHON + " " + StandIn.LIFETIME_EXEC
                + " --lifetime-lock " + standIn.lifetimeLock() + " --host " + node
                + " -- /bin/sh -c 'sleep 100000 & sleep 100000 & wait'\"\"\"\n";
    }

    /** Exactly one scheduler alive (by the lifetime lock), and it runs under {@code agent}. */
    private static boolean runsOnlyUnder(StandIn standIn, AgentProcess agent) throws IOException {
        if (!Files.exists(standIn.lifetimeLock())) {
            return false;
        }
        Set<Long> mains = Lifetimes.holders(standIn.lifetimeLock());
        return mains.size() == 1 && host(agent.pid()).stream().anyMatch(p -> mains.contains(p.pid()));
    }

    /**
     * The host of the agent {@code agentPid}: its JVM, every descendant, and every process of a session led by one
     * of them (a scheduler that daemonized away from its parent stays in its session), to a fixed point.
     */
    private static Set<ProcessInfo> host(long agentPid) {
        ProcessTable table = ProcessTable.snapshot();
        Set<ProcessInfo> host = new java.util.LinkedHashSet<>(table.tree(agentPid));
        int size;
        do {
            size = host.size();
            for (ProcessInfo p : List.copyOf(host)) {
                host.addAll(table.tree(p.pid()));
            }
        } while (host.size() != size);
        return host;
    }

    /**
     * Who stopped the old scheduler: the deadman's own line (in the scheduler's output: why it stopped the session),
     * and when the thawed agent logged that its session expired and that it self-fenced (the latter once its stop
     * returned), in ms after the thaw.
     */
    private static String stoppedBy(Path dir, String node, AgentProcess agent, LocalTime thaw) throws IOException {
        Path out = dir.resolve("logs").resolve("scheduler-" + node + ".out");
        List<String> deadman = Files.exists(out)
                ? Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith("asfc watchdog:") && l.contains("stopping the scheduler session"))
                        .toList()
                : List.of();
        List<String> agentLines = agent.output()
                .lines()
                .filter(l -> l.contains("session expired") || l.contains("self-fenced:"))
                .toList();
        System.out.printf(
                "deadman (%s):%n%s%nagent %s:%n%s%n",
                out,
                String.join("\n", deadman),
                node,
                agentLines.stream().map(WholeHostFreezeBenchmark::abbreviate).collect(Collectors.joining("\n")));
        String who;
        if (deadman.isEmpty()) {
            who = "agent (no deadman line)";
        } else if (deadman.get(0).contains("(deadman)")) {
            who = "deadman: no renewal";
        } else if (deadman.get(0).contains("self-fencing")) {
            who = "agent's self-fence (told the deadman)";
        } else {
            String line = deadman.get(0);
            who = "deadman: " + line.substring("asfc watchdog: ".length(), line.indexOf(';'));
        }
        return who + "; agent: expiry " + after(agentLines, "session expired", thaw) + ", self-fenced "
                + after(agentLines, "self-fenced:", thaw);
    }

    /** "+N ms" from {@code thaw} to the first log line with {@code what} (its HH:mm:ss.SSS), or "–". */
    private static String after(List<String> lines, String what, LocalTime thaw) {
        for (String line : lines) {
            if (line.contains(what) && line.length() > 12) {
                try {
                    LocalTime at = LocalTime.parse(line.substring(0, 12));
                    return "+" + Duration.between(thaw, at).toMillis() + " ms";
                } catch (DateTimeParseException e) {
                    // not a log line of the agent's format
                }
            }
        }
        return "–";
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        if (new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }

    private static void join(Path cgroup, long pid) {
        try {
            Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(pid));
        } catch (IOException e) {
            if (ProcessTable.read(pid).isPresent()) { // else it exited meanwhile
                throw new java.io.UncheckedIOException("cannot move pid " + pid + " into " + cgroup, e);
            }
        }
    }

    private static String state(Path cgroup) throws IOException {
        return Files.readString(cgroup.resolve("freezer.state")).trim();
    }

    private static Set<Long> procs(Path cgroup) throws IOException {
        return Files.readAllLines(cgroup.resolve("cgroup.procs")).stream()
                .filter(l -> !l.isBlank())
                .map(l -> Long.parseLong(l.trim()))
                .collect(Collectors.toSet());
    }

    /** Thaws the cgroup if it is there: a frozen process cannot even die of SIGKILL. */
    private static void cleanUp(Path cgroup) {
        try {
            if (Files.isDirectory(cgroup)) {
                Files.writeString(cgroup.resolve("freezer.state"), "THAWED");
            }
        } catch (IOException e) {
            System.err.println("cannot thaw " + cgroup + ": " + e);
        }
    }

    /** Moves what is left back to the root cgroup, then removes the trial's cgroup. */
    private static void removeCgroup(Path cgroup) {
        if (!Files.isDirectory(cgroup)) {
            return;
        }
        try {
            for (long pid : procs(cgroup)) {
                join(FREEZER, pid);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                try {
                    Files.delete(cgroup); // rmdir
                    return;
                } catch (IOException e) {
                    if (System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        } catch (IOException e) {
            System.err.println("cannot remove " + cgroup + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "…";
    }

    private static void summary(String what, Collection<Long> samples) {
        List<Long> sorted = samples.stream().sorted().toList();
        System.out.printf(
                "%s: min %d, median %d, max %d ms%n",
                what, sorted.get(0), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1));
    }
}
