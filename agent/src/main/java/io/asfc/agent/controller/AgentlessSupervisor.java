package io.asfc.agent.controller;

import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the scheduler of the assigned agentless node over SSH, as an agent's supervisor would on its
 * own host: every {@code check-interval} it looks at the node, starts the scheduler when none runs
 * (through {@link SshOps#startIfAssigned}, on the node's serial queue), and counts the failures
 * in a row. The controller tells it which agentless node is assigned ({@link #assigned}, {@link
 * #unassigned}), and asks it whether that node failed too often ({@link #failures}) to
 * quarantine it and move the scheduler.
 *
 * <p>What it knows of each node belongs to one term of leadership ({@link #newTerm}). Runs on the
 * controller's single executor thread: {@link #check} is called there, and every SSH result comes
 * back there through {@link NodeOps}.
 */
final class AgentlessSupervisor {
    private static final Logger LOG = LoggerFactory.getLogger(AgentlessSupervisor.class);

    /** What a start over SSH returned: the pid it started (-1: not started), or why it failed. */
    private record RemoteStart(long pid, String error) {}

    /** What the controller knows of an agentless node's scheduler. */
    private static final class RemoteRun {
        boolean running;
        long runningSince;
        /** When the last start over SSH returned, and the pid it started (-1: none). */
        long startedAt = Long.MIN_VALUE;

        long startedPid = -1;
        int failures;
    }

    private final Policy policy;
    private final Tuning tuning;
    /** Null when {@code ssh.enabled = false}: then {@link #check} is never called. */
    private final SshOps sshOps;

    private final NodeOps nodeOps;
    private final StraySweeper reachability;
    private final StreakAlerts streak;
    private final EventLog events;
    private final Metrics metrics;
    private final LongSupplier nanoTime;
    /** The controller's lease now (null while STANDBY), to tell a result of this term from a stale one. */
    private final Supplier<Lease> currentLease;
    /** Asks the controller for a step. */
    private final Runnable wake;

    // Only touched on the controller thread; both belong to one term of leadership.
    private final Map<String, RemoteRun> remoteRuns = new HashMap<>();
    private String assignedAgentless;

    AgentlessSupervisor(
            Policy policy,
            Tuning tuning,
            SshOps sshOps,
            NodeOps nodeOps,
            StraySweeper reachability,
            StreakAlerts streak,
            EventLog events,
            Metrics metrics,
            LongSupplier nanoTime,
            Supplier<Lease> currentLease,
            Runnable wake) {
        this.policy = policy;
        this.tuning = tuning;
        this.sshOps = sshOps;
        this.nodeOps = nodeOps;
        this.reachability = reachability;
        this.streak = streak;
        this.events = events;
        this.metrics = metrics;
        this.nanoTime = nanoTime;
        this.currentLease = currentLease;
        this.wake = wake;
    }

    /** A new term of leadership: nothing is known of any agentless node, and none is assigned. */
    void newTerm() {
        remoteRuns.clear();
        assignedAgentless = null;
    }

    /** The scheduler is assigned to the agentless {@code node} at this leader's epoch: run it there. */
    void assigned(String node) {
        assignedAgentless = node;
    }

    /** No agentless node is assigned at this leader's epoch. */
    void unassigned() {
        assignedAgentless = null;
    }

    /** The failures in a row of each agentless node's scheduler this term, as counted here. */
    Map<String, Integer> failures() {
        Map<String, Integer> counts = new HashMap<>();
        remoteRuns.forEach((node, run) -> counts.put(node, run.failures));
        return counts;
    }

    /** The agentless nodes whose scheduler was running at the last look over SSH, this term. */
    Set<String> running() {
        Set<String> nodes = new HashSet<>();
        remoteRuns.forEach((node, run) -> {
            if (run.running) {
                nodes.add(node);
            }
        });
        return nodes;
    }

    /** {@code node} was quarantined: forget what was counted there; it is no longer assigned. */
    void quarantined(String node) {
        remoteRuns.remove(node);
        assignedAgentless = null;
    }

    /** Every {@code check-interval}, while this leader holds {@code l}: look at the assigned agentless node's scheduler. */
    void check(Lease l) {
        String node = assignedAgentless;
        if (node == null || nodeOps.busy(node)) {
            return;
        }
        nodeOps.submit(
                node,
                "look",
                () -> sshOps.look(node),
                e -> new SshOps.Looked(null, new SshException(SshException.Reason.COMMAND_FAILED, e.toString(), e)),
                looked -> lookedAtAgentless(l, node, looked));
    }

    private void lookedAtAgentless(Lease l, String node, SshOps.Looked looked) {
        if (currentLease.get() != l || !node.equals(assignedAgentless)) {
            return;
        }
        if (looked.error() != null) {
            reachability.unreachable(node, looked.error());
            wake.run();
            return;
        }
        reachability.reachable(node);
        RemoteScheduler.Look look = looked.look();
        RemoteRun run = remoteRuns.computeIfAbsent(node, n -> new RemoteRun());
        long now = nanoTime.getAsLong();
        if (look.running()) {
            if (!run.running) {
                run.running = true;
                run.runningSince = now;
                metrics.failoverCompleted();
                LOG.info("the scheduler runs on agentless {}: {}", node, look.describe());
            }
            if (run.failures > 0
                    && now - run.runningSince >= tuning.startTimeout().toNanos()) {
                run.failures = 0;
                streak.endStreak(node);
            }
            return;
        }
        long settle = Math.max(
                tuning.restartSleep().toNanos(), tuning.agentlessCheck().toNanos());
        boolean started = run.startedAt != Long.MIN_VALUE;
        if (started && !run.running && now - run.startedAt < settle) {
            return; // just started: give it a moment to appear
        }
        if (started
                && !run.running
                && run.startedPid > 0
                && look.alive(run.startedPid)
                && now - run.startedAt < tuning.startTimeout().toNanos()) {
            return; // the process it started lives but does not match the pattern yet (still starting)
        }
        if (run.running || started) {
            run.failures++;
            events.record(
                    "scheduler-died",
                    node + ": no scheduler process over SSH (" + run.failures + " failure(s) in a row)");
            streak.failed(node);
        }
        run.running = false;
        if (run.failures >= policy.maxFailures()) {
            wake.run(); // the controller quarantines and moves
            return;
        }
        run.startedAt = now;
        run.startedPid = -1;
        start(l, node, run);
    }

    private void start(Lease l, String node, RemoteRun run) {
        nodeOps.submit(
                node,
                "agentless start",
                () -> {
                    try {
                        return new RemoteStart(sshOps.startIfAssigned(l, node), null);
                    } catch (Exception e) {
                        Threads.checkInterrupted(e);
                        return new RemoteStart(-1, e.getMessage());
                    }
                },
                e -> new RemoteStart(-1, e.toString()),
                start -> {
                    // settle from when the start returned: an SSH round trip on a loaded host can
                    // take longer than check-interval
                    run.startedAt = nanoTime.getAsLong();
                    run.startedPid = start.pid();
                    if (start.error() != null) {
                        LOG.info("agentless {}: could not start the scheduler over SSH: {}", node, start.error());
                        events.record("scheduler-start-failed", node + ": could not start over SSH: " + start.error());
                    } else if (start.pid() >= 0) {
                        LOG.info("agentless {}: scheduler started over SSH (pid {})", node, start.pid());
                        events.record("scheduler-started", node + ": started over SSH (pid " + start.pid() + ")");
                    }
                });
    }
}
