package io.asfc.it.pg;

import io.asfc.common.testing.Lifetimes;
import io.asfc.it.pg.Faults.Partition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The proving ground's scenarios. Each injects one fault (or, for {@code failover-under-faults}, an operator's
 * failover during two faults), waits until the cluster has settled, and measures the stretch from the fault to
 * then. The caller restores the baseline (every host, server and agent up) between scenarios.
 */
final class Scenarios {

    /** One scenario: a name for the report, and what it does. */
    record Scenario(String name, Body body) {}

    @FunctionalInterface
    interface Body {
        Outcome run() throws Exception;
    }

    /** How long the quick suite's lost quorum lasts, as the issue asks. */
    static final Duration QUORUM_LOSS = Duration.ofSeconds(30);

    /** How long the agentless holder's sshd is down in {@code agentless-sshd-down}, as the issue asks. */
    static final Duration SSHD_DOWN = Duration.ofSeconds(60);

    /** The same in {@code agentless-sshd-down-scheduler-kill}: only long enough for a change of leader. */
    static final Duration SSHD_DOWN_SHORT = Duration.ofSeconds(20);

    /** How long the operator's {@code failover} waits for its final answer in {@code agentless-sshd-down}. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(100);

    private final ProvingGround pg;
    private final Faults faults;
    private final Tunings t;
    private final long startNanos;
    /** Observations of the running scenario that are not failures, for its outcome. */
    private final List<String> notes = new ArrayList<>();
    /** Failures the running scenario found itself (besides overlap and L1), for its outcome. */
    private final List<String> problems = new ArrayList<>();

    Scenarios(ProvingGround pg, long startNanos) {
        this.pg = pg;
        this.faults = new Faults(pg);
        this.t = pg.tunings();
        this.startNanos = startNanos;
    }

    /** Every scenario once, in an order that needs no special setup between them. */
    List<Scenario> quick() {
        return List.of(
                scenario("scheduler-kill", this::schedulerKill),
                scenario("failover-manual", this::manualFailover),
                scenario("active-agent-kill", this::activeAgentKill),
                scenario("scheduler-agent-kill", this::schedulerAgentKill),
                scenario("graceful-handover", this::gracefulHandover),
                scenario("agent-hand-over", this::agentHandOver),
                scenario("agent-freeze", this::agentFreeze),
                scenario("host-crash", this::hostCrash),
                scenario("partition-zookeeper", () -> partition(Partition.ZOOKEEPER, "partition-zookeeper")),
                scenario("partition-ssh", this::partitionSsh),
                scenario(
                        "partition-zookeeper-and-ssh",
                        () -> partition(Partition.ZOOKEEPER_AND_SSH, "partition-zookeeper-and-ssh")),
                scenario("partition-one-way", () -> partition(Partition.ONE_WAY_FROM_ZOOKEEPER, "partition-one-way")),
                scenario("zk-leader-kill", this::zkLeaderKill),
                scenario("zk-minority-kill", this::zkMinorityKill),
                scenario("zk-quorum-loss", this::zkQuorumLoss),
                scenario("failover-under-faults", this::failoverUnderFaults),
                scenario("failover-during-partition", this::failoverDuringPartition),
                scenario("leader-kill-mid-move", this::leaderKillMidMove),
                scenario("frozen-agent-cut-off", this::frozenAgentCutOff),
                scenario("slow-exit-partition", this::slowExitPartition),
                scenario("agentless-sshd-down", this::agentlessSshdDown),
                scenario("agentless-sshd-down-scheduler-kill", this::agentlessSshdDownSchedulerKill));
    }

    /** A scenario whose notes start empty, even after one that failed half-way. */
    private Scenario scenario(String name, Body body) {
        return new Scenario(name, () -> {
            notes.clear();
            problems.clear();
            return body.run();
        });
    }

    Outcome schedulerKill() throws Exception {
        String node = pg.schedulerNode();
        long at = faults.killScheduler(node);
        long end = settleAndWatch(all());
        return outcome("scheduler-kill", "kill -9 of the scheduler on " + node, at, at, end, null);
    }

    Outcome manualFailover() throws Exception {
        String from = pg.schedulerNode();
        String to = next(from);
        long at = faults.failover(to, to);
        long end = settleAndWatch(all());
        expectOn(to, "failover --to " + to);
        return outcome(
                "failover-manual", "bin/asfc-agent failover --to " + to + " (from " + from + ")", at, at, end, 1);
    }

    /** Setup: moves the scheduler off the ACTIVE agent's host when it runs there; returns where it runs then. */
    private String schedulerApartFromActive(String active) throws Exception {
        String scheduler = pg.schedulerNode();
        if (active.equals(scheduler)) {
            faults.failover(next(scheduler), next(scheduler));
            settle(all());
            scheduler = pg.schedulerNode();
        }
        return scheduler;
    }

    Outcome activeAgentKill() throws Exception {
        String active = pg.activeNode();
        String scheduler = schedulerApartFromActive(active);
        boolean apart = !active.equals(scheduler);
        if (!apart) {
            notes.add("setup: failover --to " + next(active) + " left the scheduler on " + scheduler
                    + ", so it ran on the killed agent's host");
        }
        long at = faults.killAgent(active);
        long end = settleAndWatch(allBut(active));
        return outcome(
                "active-agent-kill",
                "kill -9 of the ACTIVE agent " + active + " (scheduler on " + scheduler + ")",
                at,
                at,
                end,
                apart ? 0 : 1);
    }

    Outcome schedulerAgentKill() throws Exception {
        String node = pg.schedulerNode();
        long at = faults.killAgent(node);
        long end = settleAndWatch(allBut(node));
        return outcome(
                "scheduler-agent-kill", "kill -9 of " + node + "'s agent, which runs the scheduler", at, at, end, 1);
    }

    Outcome gracefulHandover() throws Exception {
        String node = pg.schedulerNode();
        long at = faults.stopAgent(node);
        long end = settleAndWatch(allBut(node));
        return outcome(
                "graceful-handover",
                "bin/asfc-agent stop (SIGTERM) of " + node + "'s agent, which runs the scheduler",
                at,
                at,
                end,
                1);
    }

    /**
     * A rolling upgrade's step on the holder: {@code bin/asfc-agent restart --hand-over}. The new agent resumes the
     * old one's session and adopts the scheduler: no restart is expected (a hand-over that comes too late costs one,
     * reported as a note; two schedulers at once is a failure either way).
     */
    Outcome agentHandOver() throws Exception {
        String node = pg.schedulerNode();
        long at = faults.handOverAgent(node);
        long end = settleAndWatch(all());
        expectOn(node, "restart --hand-over of " + node + "'s agent");
        return outcome(
                "agent-hand-over",
                "bin/asfc-agent restart --hand-over of " + node + "'s agent, which runs the scheduler",
                at,
                at,
                end,
                0);
    }

    Outcome agentFreeze() throws Exception {
        String node = pg.schedulerNode();
        Duration hold = t.sessionTimeout().plusSeconds(2);
        long at = faults.freezeAgent(node, hold);
        long end = settleAndWatch(all());
        return outcome(
                "agent-freeze",
                "SIGSTOP of " + node + "'s agent (runs the scheduler) for " + Tunings.ms(hold) + ", then SIGCONT",
                at,
                at,
                end,
                1);
    }

    Outcome hostCrash() throws Exception {
        String node = pg.schedulerNode();
        long at = faults.crashHost(node);
        long end = settleAndWatch(allBut(node));
        return outcome(
                "host-crash",
                "crash of " + node + ", which runs the scheduler (SIGKILL of its PID namespace, link down)",
                at,
                at,
                end,
                1);
    }

    Outcome partition(Partition kind, String name) throws Exception {
        String node = pg.schedulerNode();
        long at = faults.partition(node, kind);
        settle(allBut(node));
        faults.heal(node);
        long end = settleAndWatch(all());
        String how =
                switch (kind) {
                    case ZOOKEEPER -> "cut off from ZooKeeper (both ways)";
                    case ONE_WAY_FROM_ZOOKEEPER -> "deaf to ZooKeeper (packets from the servers dropped, its own sent)";
                    case ZOOKEEPER_AND_SSH -> "cut off from ZooKeeper and SSH (only self-fencing can stop it)";
                    case SSH -> "unreachable over SSH";
                };
        return outcome(name, node + ", which runs the scheduler, " + how + " until another runs it", at, at, end, 1);
    }

    Outcome partitionSsh() throws Exception {
        String scheduler = pg.schedulerNode();
        String active = pg.activeNode();
        String target = ProvingGround.NODES.stream()
                .filter(n -> !n.equals(scheduler) && !n.equals(active))
                .findFirst()
                .orElse(next(scheduler));
        // Long enough for sweeps that check the agent's host over SSH (every verify-agents-every polls).
        Duration hold =
                t.pollInterval().multipliedBy(4).plus(t.sshConnectTimeout()).plusSeconds(1);
        long at = faults.partition(target, Partition.SSH);
        Thread.sleep(hold.toMillis());
        faults.heal(target);
        long end = settleAndWatch(all());
        return outcome(
                "partition-ssh",
                target + " unreachable over SSH for " + Tunings.ms(hold) + " (scheduler on " + scheduler + ")",
                at,
                at,
                end,
                0);
    }

    Outcome zkLeaderKill() throws Exception {
        long at = System.nanoTime();
        ZkEnsemble.Server killed = faults.killZkLeader();
        pg.zk().awaitQuorum(Duration.ofSeconds(60));
        long end = settleAndWatch(all());
        return outcome("zk-leader-kill", "kill -9 of the ZooKeeper leader " + killed, at, at, end, 0);
    }

    Outcome zkMinorityKill() throws Exception {
        long at = System.nanoTime();
        ZkEnsemble.Server killed = faults.killZkFollower();
        Thread.sleep(t.sessionTimeout().toMillis()); // the fault lasts a session timeout
        long end = settleAndWatch(all());
        return outcome("zk-minority-kill", "kill -9 of the ZooKeeper follower " + killed, at, at, end, 0);
    }

    Outcome zkQuorumLoss() throws Exception {
        long at = System.nanoTime();
        long restored = faults.loseQuorum(QUORUM_LOSS);
        long end = settleAndWatch(all());
        return outcome(
                "zk-quorum-loss",
                "kill -9 of 2 of 3 ZooKeeper servers for " + Tunings.ms(QUORUM_LOSS)
                        + ", then restarted (recovery from the restored quorum)",
                at,
                restored,
                end,
                1);
    }

    Outcome failoverUnderFaults() throws Exception {
        String from = pg.schedulerNode();
        String to = next(from);
        String third = next(to);
        ZkEnsemble.Server killed = faults.killZkFollower();
        faults.partition(third, Partition.SSH);
        long at = faults.failover(to, to);
        long end = settleAndWatch(all());
        expectOn(to, "failover --to " + to);
        faults.heal(third);
        return outcome(
                "failover-under-faults",
                "failover --to " + to + " (from " + from + ") while ZooKeeper " + killed + " is down and " + third
                        + " is unreachable over SSH",
                at,
                at,
                end,
                1);
    }

    /**
     * Issue 16, sequence 1: the holder is silently cut off (ZooKeeper and SSH) and an operator asks for a failover
     * at once. The move begins while the holder's agent still looks live; its agent then vanishes at session expiry.
     * The leave-rule holds the new node back until the holder is stopped over SSH (impossible here) or takeover-grace
     * has passed since its agent vanished (its self-fence has stopped it by then).
     */
    Outcome failoverDuringPartition() throws Exception {
        String from = pg.schedulerNode();
        String to = next(from);
        long at = faults.partition(from, Partition.ZOOKEEPER_AND_SSH);
        faults.failover(to, to);
        settle(allBut(from));
        expectOn(to, "failover --to " + to + " during the partition of " + from);
        faults.heal(from);
        long end = settleAndWatch(all());
        return outcome(
                "failover-during-partition",
                "failover --to " + to + " issued right after " + from + " (the holder) was cut off from ZooKeeper and"
                        + " SSH",
                at,
                at,
                end,
                1);
    }

    /**
     * Issue 16, sequence 2: the ACTIVE agent is killed between the two phases of a move (the scheduler znode says
     * nobody), while the holder is cut off. The next leader must finish the move from the znode's movingFrom, under
     * the leave-rule, not assign at once.
     */
    Outcome leaderKillMidMove() throws Exception {
        String leader = pg.activeNode();
        String from = schedulerApartFromActive(leader);
        String to = ProvingGround.NODES.stream()
                .filter(n -> !n.equals(from) && !n.equals(leader))
                .findFirst()
                .orElseThrow();
        long at = faults.partition(from, Partition.ZOOKEEPER_AND_SSH);
        Thread request = new Thread(() -> {
            try {
                pg.agent(to).cli("failover", "--to", to, "--timeout", "30");
            } catch (Exception e) {
                notes.add("the failover command failed: " + e);
            }
        });
        request.setDaemon(true);
        request.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (pg.observer().latestRoles().flatMap(Observer.Roles::assigned).isPresent()
                && System.nanoTime() < deadline) {
            Thread.sleep(20); // until the leader wrote the first phase (nobody assigned)
        }
        if (pg.observer().latestRoles().flatMap(Observer.Roles::assigned).isPresent()) {
            notes.add("setup: the move did not begin within 20 s; the leader was killed anyway");
        }
        faults.killAgent(leader);
        request.join(Duration.ofSeconds(40).toMillis());
        settle(Set.of(to));
        faults.heal(from);
        long end = settleAndWatch(allBut(leader));
        return outcome(
                "leader-kill-mid-move",
                "kill -9 of the ACTIVE " + leader + " while it moved the scheduler from " + from
                        + " (cut off from ZooKeeper and SSH) to " + to,
                at,
                at,
                end,
                1);
    }

    /**
     * Issue 16: the holder's scheduler takes 8 s to exit on SIGTERM, and its host is cut off from ZooKeeper and SSH.
     * Its self-fence must kill it within self-fence-stop-timeout, before another host may start one (the S4 budget).
     */
    /**
     * The double fault: the holder's agent is frozen (SIGSTOP) and its host cut off from ZooKeeper and SSH at once.
     * The frozen agent cannot self-fence and no controller can stop the host over SSH, so after its session expires
     * and takeover-grace passes another node is assigned. Only the on-host deadman (the watchdog that leads the
     * scheduler's session, renewed by the agent) stops the cut-off scheduler before that: no exception to S1. The
     * agent is thawed and the host healed once another node runs the scheduler.
     */
    Outcome frozenAgentCutOff() throws Exception {
        String node = pg.schedulerNode();
        long pid = faults.freezeAgent(node);
        long at;
        try {
            at = faults.partition(node, Partition.ZOOKEEPER_AND_SSH);
            settle(allBut(node));
        } finally {
            faults.thawAgent(pid);
        }
        faults.heal(node);
        long end = settleAndWatch(all());
        return outcome(
                "frozen-agent-cut-off",
                node + "'s agent frozen (SIGSTOP) and " + node + " cut off from ZooKeeper and SSH at once, until"
                        + " another node runs the scheduler; then SIGCONT and heal",
                at,
                at,
                end,
                1);
    }

    Outcome slowExitPartition() throws Exception {
        String node = pg.schedulerNode();
        Optional<java.nio.file.Path> delay = pg.workload().termDelayFile(node);
        if (delay.isPresent()) {
            java.nio.file.Files.writeString(delay.get(), "8\n");
        } else {
            notes.add("this workload cannot delay the exit; a plain partition");
        }
        try {
            long at = faults.partition(node, Partition.ZOOKEEPER_AND_SSH);
            settle(allBut(node));
            faults.heal(node);
            long end = settleAndWatch(all());
            return outcome(
                    "slow-exit-partition",
                    node + ", whose scheduler takes 8 s to exit on SIGTERM, cut off from ZooKeeper and SSH",
                    at,
                    at,
                    end,
                    1);
        } finally {
            if (delay.isPresent()) {
                java.nio.file.Files.deleteIfExists(delay.get());
            }
        }
    }

    /**
     * The agentless holder's sshd is down for {@link #SSHD_DOWN}: no controller can look at, stop or start its
     * scheduler, which runs on. Meanwhile two things tempt a controller into a second scheduler: the ACTIVE agent is
     * killed (its successor starts with no memory of the node, and must keep the assignment), and an operator asks at
     * once for {@code failover --to} a host with an agent. Never (c) for an agentless node: the scheduler may leave it
     * only once a host stop over SSH proved it stopped, so the move waits until sshd is back. No other node may be
     * assigned while sshd is down, and no two schedulers may ever run.
     */
    Outcome agentlessSshdDown() throws Exception {
        String node = moveToAgentless();
        String leader = pg.activeNode();
        String to = ProvingGround.NODES.stream()
                .filter(n -> !n.equals(leader))
                .findFirst()
                .orElseThrow();
        long at = faults.stopSshd(node);
        sleepUntil(at, Duration.ofSeconds(5)); // the leader looks every check-interval: it has found it unreachable
        faults.killAgent(leader);
        Request request = Request.start(
                pg.agent(to), REQUEST_TIMEOUT, "failover", "--to", to, "--timeout", seconds(REQUEST_TIMEOUT));
        awaitActiveOtherThan(leader);
        sleepUntil(at, Duration.ofSeconds(30));
        pg.agent(leader).start(); // a new STANDBY joins during the outage
        sleepUntil(at, SSHD_DOWN);
        long back = faults.startSshd(node);
        onlyAssignedDuring(node, at, back);
        notes.add("failover --to " + to + " (issued on " + to + " right after the kill of the ACTIVE " + leader + "): "
                + request.await(REQUEST_TIMEOUT.plusSeconds(30)));
        settle(all());
        long end = settleAndWatch(all());
        notes.add("after sshd was back the scheduler runs on " + pg.schedulerNode());
        return outcome(
                "agentless-sshd-down",
                "sshd of the agentless " + node + " (runs the scheduler) stopped for " + Tunings.ms(SSHD_DOWN)
                        + "; meanwhile kill -9 of the ACTIVE " + leader + " and failover --to " + to
                        + " (recovery from sshd's return)",
                at,
                back,
                end,
                1);
    }

    /**
     * The agentless holder's sshd is down, and its scheduler is killed: nobody can see the death or restart it
     * (availability is lost until sshd is back), and nobody may start one elsewhere, since the node's state is unknown.
     * The ACTIVE agent is killed too, so the new leader meets the unreachable node with no memory of it. Once sshd is
     * back, exactly one scheduler runs again.
     */
    Outcome agentlessSshdDownSchedulerKill() throws Exception {
        String node = moveToAgentless();
        String leader = pg.activeNode();
        long at = faults.stopSshd(node);
        sleepUntil(at, Duration.ofSeconds(2));
        faults.killScheduler(node);
        sleepUntil(at, Duration.ofSeconds(4));
        faults.killAgent(leader);
        awaitActiveOtherThan(leader);
        pg.agent(leader).start();
        sleepUntil(at, SSHD_DOWN_SHORT);
        long back = faults.startSshd(node);
        onlyAssignedDuring(node, at, back);
        settle(all());
        long end = settleAndWatch(all());
        notes.add("after sshd was back the scheduler runs on " + pg.schedulerNode());
        return outcome(
                "agentless-sshd-down-scheduler-kill",
                "sshd of the agentless " + node + " stopped for " + Tunings.ms(SSHD_DOWN_SHORT)
                        + "; meanwhile kill -9 of its scheduler, then of the ACTIVE " + leader
                        + " (recovery from sshd's return)",
                at,
                back,
                end,
                1);
    }

    /** Setup: {@code failover --to} the agentless host, and waits until its scheduler runs there; returns it. */
    private String moveToAgentless() throws Exception {
        String node = pg.agentless().stream()
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("this proving ground has no agentless host"));
        String from = pg.schedulerNode();
        long began = System.nanoTime();
        faults.failover(from, node);
        settle(all());
        String holder = pg.schedulerNode();
        if (!holder.equals(node)) {
            throw new IllegalStateException(
                    "setup: failover --to " + node + " exited 0, but the scheduler runs on " + holder);
        }
        notes.add("setup: failover --to " + node + " moved the scheduler from " + from + "; settled after "
                + (System.nanoTime() - began) / 1_000_000 + " ms");
        return node;
    }

    /** A problem when ZooKeeper assigned the scheduler to any node but {@code node} between the two instants. */
    private void onlyAssignedDuring(String node, long fromNanos, long toNanos) {
        List<String> others = pg.observer().roles().stream()
                .filter(r -> r.atNanos() >= fromNanos && r.atNanos() <= toNanos)
                .map(r -> r.assigned().orElse(null))
                .filter(n -> n != null && !n.equals(node))
                .distinct()
                .toList();
        if (!others.isEmpty()) {
            problems.add("the leave-rule: assigned to " + others + " while " + node
                    + " (agentless, its scheduler's state unknown) was unreachable over SSH");
        }
    }

    /** Waits (bounded) until ZooKeeper names a sole ACTIVE other than {@code old}; a note if none came. */
    private void awaitActiveOtherThan(String old) throws InterruptedException {
        long deadline = System.nanoTime() + t.l1Bound().toNanos();
        while (System.nanoTime() - deadline < 0) {
            Optional<String> active = pg.observer().latestRoles().flatMap(Observer.Roles::active);
            if (active.isPresent() && !active.get().equals(old)) {
                return;
            }
            Thread.sleep(50);
        }
        notes.add("no new ACTIVE within " + t.l1Bound().toMillis() + " ms of the kill of " + old);
    }

    /** Sleeps until {@code offset} after {@code startNanos}: the length of a fault, not a wait for a condition. */
    private static void sleepUntil(long startNanos, Duration offset) throws InterruptedException {
        long left = startNanos + offset.toNanos() - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }

    private static String seconds(Duration d) {
        return Long.toString(d.toSeconds());
    }

    /** A command-line command run in the background, e.g. an operator's request that waits for its answer. */
    private static final class Request {
        private final Thread thread;
        private volatile String answer = "still running";

        private Request(HostAgent agent, Duration timeout, String... args) {
            this.thread = new Thread(
                    () -> {
                        try {
                            io.asfc.it.CommandResult r = agent.run(timeout.plusSeconds(30), args);
                            List<String> lines =
                                    r.stdout().lines().filter(l -> !l.isBlank()).toList();
                            String first = lines.isEmpty() ? "" : lines.get(0);
                            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
                            answer = "exit " + r.exitCode() + " after " + lines.size() + " lines, first \"" + first
                                    + "\", last \"" + (last + " " + r.stderr().strip()).strip() + "\"";
                        } catch (Exception e) {
                            answer = "could not run: " + e;
                        }
                    },
                    "pg-request");
            thread.setDaemon(true);
        }

        /** Runs {@code bin/asfc-agent args} on {@code agent}'s host, for at most {@code timeout} and a margin. */
        static Request start(HostAgent agent, Duration timeout, String... args) {
            Request r = new Request(agent, timeout, args);
            r.thread.start();
            return r;
        }

        /** Waits at most {@code atMost} for the command to end; what it answered (exit code, first and last line). */
        String await(Duration atMost) throws InterruptedException {
            thread.join(atMost.toMillis());
            return answer;
        }
    }

    private Outcome outcome(
            String name, String fault, long faultAt, long recoveryFrom, long settledAt, Integer expectedRestarts) {
        Window w = pg.observer().window(faultAt, settledAt);
        long bound = t.l1Bound().toMillis();
        Optional<Long> recovery = w.recoveryMillis(recoveryFrom);
        List<String> problems = new ArrayList<>(this.problems);
        List<String> notes = new ArrayList<>(this.notes);
        this.notes.clear();
        this.problems.clear();
        if (w.overlapSamples() > 0) {
            problems.add("S1: two scheduler processes for " + w.overlapMillis() + " ms (samples): " + w.overlaps());
        }
        List<Lifetimes.Overlap> exact = pg.observer().lifetimeOverlaps(faultAt, settledAt);
        if (!exact.isEmpty()) {
            problems.add("S1: two scheduler processes alive at once for "
                    + pg.observer().lifetimeOverlapMillis(faultAt, settledAt) + " ms (the lifetime lock): " + exact);
        }
        if (recovery.isEmpty()) {
            problems.add("no single scheduler at the end");
        } else if (recovery.get() > bound) {
            problems.add(
                    "L1: the scheduler ran again after " + recovery.get() + " ms, over the bound of " + bound + " ms");
        }
        if (expectedRestarts != null && w.restarts() > expectedRestarts) {
            String what = w.restarts() + " scheduler restarts, " + expectedRestarts + " expected";
            if (name.equals("active-agent-kill")) { // the contract: a controller failover restarts nothing
                problems.add(what);
            } else {
                notes.add(what);
            }
        }
        if (w.longestSampleIntervalMillis() > Observer.PROMISED_PERIOD.toMillis()) {
            notes.add("longest interval between process samples: " + w.longestSampleIntervalMillis() + " ms");
        }
        return new Outcome(
                name,
                fault,
                (faultAt - startNanos) / 1_000_000,
                recovery.orElse(null),
                w.newActiveMillis(faultAt).orElse(null),
                w.gapMillis(),
                Math.max(w.overlapMillis(), pg.observer().lifetimeOverlapMillis(faultAt, settledAt)),
                w.overlapSamples(),
                w.restarts(),
                expectedRestarts,
                w.schedulerPath(),
                w.activePath(),
                w.finalRoles(),
                bound,
                List.copyOf(problems),
                List.copyOf(notes));
    }

    /** Notes it when the scheduler does not run on {@code node}, where {@code what} should have put it. */
    private void expectOn(String node, String what) {
        String actual = pg.schedulerNode();
        if (!actual.equals(node)) {
            notes.add(what + " exited 0, but the scheduler runs on " + actual);
        }
    }

    /** Waits until the cluster settled with exactly {@code agents} registered. */
    private long settle(Set<String> agents) {
        return pg.awaitSettled(agents, t.l1Bound().plusSeconds(45));
    }

    /**
     * Waits until the cluster settled, then keeps watching for a session timeout and a second more: what a fault
     * leaves behind (a session that expires only now, an agent that rejoins) happens inside the scenario's window.
     * Returns the end of the window.
     */
    private long settleAndWatch(Set<String> agents) throws InterruptedException {
        settle(agents);
        Thread.sleep(t.sessionTimeout().plusSeconds(1).toMillis()); // an observation period, not a wait for a condition
        return System.nanoTime();
    }

    private static Set<String> all() {
        return Set.copyOf(ProvingGround.NODES);
    }

    private static Set<String> allBut(String node) {
        Set<String> nodes = new TreeSet<>(ProvingGround.NODES);
        nodes.remove(node);
        return nodes;
    }

    /** The node after {@code node} in {@code nodes} order, round. */
    private static String next(String node) {
        List<String> nodes = ProvingGround.NODES;
        return nodes.get((nodes.indexOf(node) + 1) % nodes.size());
    }
}
