package io.asfc.agent.sim;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.controller.SimPlacement;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The leader's Controller, as the simulator runs it: it reads the view, asks the real {@link
 * SimPlacement} (Placement, LeaveRule, Policy, one term's ControllerMemory) and executes the actions
 * as Controller, AssignmentStore, HostStopper, NodeOps, SshOps, StraySweeper and
 * AgentlessSupervisor do: every write is a fenced multi (latch node + epoch version, S2) that also
 * checks the version read; SSH operations run on one serial queue per node; a host stop proves the
 * lease (a fenced check) after every look and before every kill; results of a term are dropped by
 * the next one.
 */
final class SimController {
    /** A fenced write that found the lease gone: nothing was written. */
    private static final class LeadershipLost extends RuntimeException {
        LeadershipLost() {
            super(null, null, false, false);
        }
    }

    /** A write that failed otherwise (BadVersion, connection): the step ends, as Controller's does. */
    private static final class StepFailed extends RuntimeException {
        StepFailed(String why) {
            super(why, null, false, false);
        }
    }

    private record SshCall(boolean ok, long delay, String error) {}

    private record Result(boolean ok, String detail, List<SimHost.Proc> seen) {}

    /** What the controller knows of an agentless node's scheduler (AgentlessSupervisor.RemoteRun). */
    private static final class RemoteRun {
        boolean running;
        long runningSince;
        long startedAt = Long.MIN_VALUE;
        int startedPid = -1;
        int failures;
    }

    private final Simulation sim;
    private final SimConfig cfg;
    private final SimAgent agent;
    private final SimPlacement placement;
    private SimAgent.Lease lease;

    // NodeOps
    private final Map<String, ArrayDeque<Runnable>> queues = new TreeMap<>();
    private final Map<String, Integer> pending = new TreeMap<>();
    private final Set<String> running = new TreeSet<>();

    // AgentlessSupervisor and StraySweeper, one term
    private final Map<String, RemoteRun> remoteRuns = new TreeMap<>();
    private String assignedAgentless;
    private long sweeps;

    SimController(Simulation sim, SimAgent agent) {
        this.sim = sim;
        this.cfg = sim.cfg;
        this.agent = agent;
        this.placement = new SimPlacement(
                cfg.nodes(),
                cfg.agentless(),
                cfg.maxRestarts(),
                cfg.ssh(),
                cfg.onUnfenceable(),
                cfg.takeoverGrace(),
                cfg.poll());
    }

    void start() {
        every(cfg.heartbeat(), "controller step", this::step);
        if (cfg.ssh()) {
            every(cfg.poll(), "sweep", this::sweep);
            every(cfg.check(), "agentless check", this::checkAgentless);
        }
    }

    private void every(long period, String label, Runnable r) {
        agent.after(period, label, () -> {
            r.run();
            every(period, label, r);
        });
    }

    /** Controller.onRole: a new term starts with a new memory. */
    void onRole(SimAgent.Lease l) {
        lease = l;
        placement.newTerm();
        remoteRuns.clear();
        assignedAgentless = null;
        if (l != null) {
            agent.after(0, "controller step (new term)", this::step);
        }
    }

    void wake() {
        agent.after(sim.jitter(3 * SimConfig.MS), "controller wake", this::step);
    }

    // --- the step

    private void step() {
        SimAgent.Lease l = lease;
        if (l == null) {
            return;
        }
        if (agent.reach() != SimAgent.Reach.OK) {
            return; // controller step failed; retrying
        }
        SimZk zk = sim.zk;
        if (zk.control.paused()) {
            return;
        }
        Znode<Assignment> assignment = zk.schedulerZnode();
        Map<String, Znode<AgentRecord>> agents = zk.agentZnodes();
        Znode<ControlRecord> control = zk.controlZnode();
        Map<String, NodeRecord> quarantined = new LinkedHashMap<>(zk.quarantined);
        List<SimPlacement.Act> acts = placement.decide(
                assignment,
                agents,
                control,
                quarantined,
                l.epoch(),
                sim.now(),
                sim.wall().toEpochMilli(),
                busyNodes(),
                agentlessFailures());
        for (SimPlacement.Act act : acts) {
            if (!agent.alive()) {
                return;
            }
            try {
                execute(l, act, assignment, control);
            } catch (LeadershipLost e) {
                agent.leadershipLost(l);
                return;
            } catch (StepFailed e) {
                sim.trace(agent.name() + ": controller step failed: " + e.getMessage());
                return;
            }
        }
    }

    private void execute(SimAgent.Lease l, SimPlacement.Act act, Znode<Assignment> read, Znode<ControlRecord> control) {
        SimZk zk = sim.zk;
        int version = read.present() ? read.stat().getVersion() : -1;
        if (act instanceof SimPlacement.Assign a) {
            fenced(
                    l,
                    zk.schedulerVersion == version,
                    () -> zk.writeScheduler(
                            Assignment.to(a.node(), l.epoch(), sim.wall(), "assigned by " + agent.name())));
            sim.trace(agent.name() + " ASSIGNS " + a.node() + " at epoch " + l.epoch());
        } else if (act instanceof SimPlacement.BeginMove a) {
            boolean ok = zk.schedulerVersion == version
                    && (a.requestId() == null
                            || zk.controlVersion == control.stat().getVersion());
            fenced(l, ok, () -> {
                zk.writeScheduler(
                        Assignment.moving(a.from(), a.to(), a.requestId(), l.epoch(), sim.wall(), a.reason()));
                if (a.requestId() != null) {
                    zk.writeControl(control.value().withResult(ControlRecord.ACCEPTED + a.reason(), sim.wall()));
                }
            });
            sim.trace(agent.name() + " BEGINS MOVE " + a.from() + " -> " + a.to() + ": " + a.reason());
            sim.leaderWroteMove(agent);
            wake();
        } else if (act instanceof SimPlacement.Quarantine a) {
            fenced(l, true, () -> {
                zk.quarantined.put(a.node(), a.record());
                zk.zxid++;
            });
            sim.trace(agent.name() + " quarantines " + a.node());
            if (a.agentless()) {
                remoteRuns.remove(a.node());
                assignedAgentless = null;
            }
        } else if (act instanceof SimPlacement.Lift a) {
            fenced(l, true, () -> {
                if (a.record() == null) {
                    zk.quarantined.remove(a.node());
                } else {
                    zk.quarantined.put(a.node(), a.record());
                }
                zk.zxid++;
            });
        } else if (act instanceof SimPlacement.StopHost a) {
            hostStop(l, a.node(), a.generation());
        } else if (act instanceof SimPlacement.WakeAt a) {
            agent.after(a.atNanos() - sim.now(), "controller step (WakeAt)", this::step);
        } else if (act instanceof SimPlacement.Blocked a) {
            sim.trace(agent.name() + ": move blocked: " + a.why());
            agent.after(cfg.poll(), "controller step (after move-blocked)", this::step);
        } else if (act instanceof SimPlacement.Moved a) {
            if (a.requestId() != null && a.requestId().equals(zk.control.requestId())) {
                ControlRecord now = zk.control;
                fenced(l, true, () -> zk.writeControl(now.withResult("moved to " + a.to(), sim.wall())));
            }
        } else if (act instanceof SimPlacement.Answer a) {
            fenced(
                    l,
                    zk.controlVersion == control.stat().getVersion(),
                    () -> zk.writeControl(control.value().withResult(a.text(), sim.wall())));
            sim.trace(agent.name() + " answers the request: " + a.text());
        } else if (act instanceof SimPlacement.Supervise a) {
            assignedAgentless = a.node();
        }
    }

    /** FencedWriter.commit: the multi checks the latch node and the epoch version, then the ops. */
    private void fenced(SimAgent.Lease l, boolean versionsHold, Runnable apply) {
        SimAgent.Reach r = agent.reach();
        if (r == SimAgent.Reach.FAILED) {
            throw new StepFailed("ZooKeeper unreachable, nothing written");
        }
        if (!agent.leaseHolds(l)) {
            throw new LeadershipLost();
        }
        if (!versionsHold) {
            throw new StepFailed("BadVersion: another write got in first");
        }
        apply.run();
        if (r == SimAgent.Reach.LOST_REPLY) {
            throw new StepFailed("ConnectionLoss (the write was applied)");
        }
    }

    /** A fenced multi that writes nothing (SshOps.prove / proveUnchanged). */
    private boolean prove(SimAgent.Lease l, Integer schedulerVersion) {
        return agent.reach() == SimAgent.Reach.OK
                && agent.leaseHolds(l)
                && (schedulerVersion == null || sim.zk.schedulerVersion == schedulerVersion);
    }

    // --- NodeOps: one serial queue per node

    private Set<String> busyNodes() {
        Set<String> busy = new TreeSet<>();
        pending.forEach((n, c) -> {
            if (c > 0) {
                busy.add(n);
            }
        });
        return busy;
    }

    private boolean busy(String node) {
        return pending.getOrDefault(node, 0) > 0;
    }

    /** Queues {@code work} on the node's queue; {@code then} runs on the controller thread. */
    private void submit(String node, String what, Consumer<Consumer<Result>> work, Consumer<Result> then) {
        pending.merge(node, 1, Integer::sum);
        queues.computeIfAbsent(node, n -> new ArrayDeque<>())
                .add(() -> work.accept(result -> {
                    agent.after(0, what + " on " + node + " returned", () -> {
                        pending.merge(node, -1, Integer::sum);
                        then.accept(result);
                    });
                    runNext(node);
                }));
        if (!running.contains(node)) {
            runNext(node);
        }
    }

    private void runNext(String node) {
        Runnable next = queues.get(node).poll();
        if (next == null) {
            running.remove(node);
            return;
        }
        running.add(node);
        next.run();
    }

    /** One SSH command from this host to {@code node}, decided at the call. */
    private SshCall ssh(String node) {
        SimHost to = sim.hosts.get(node);
        if (agent.host.sshCuts > 0 || to.sshCuts > 0) {
            return new SshCall(false, cfg.sshConnectTimeout(), "connect timed out"); // a silent drop
        }
        if (to.sshd == SimHost.Sshd.HANG) {
            return new SshCall(false, cfg.sshCommandTimeout() + sim.jitter(100 * SimConfig.MS), "timed out");
        }
        if (to.sshd == SimHost.Sshd.REFUSE) {
            return new SshCall(false, sim.between(SimConfig.MS, 20 * SimConfig.MS), "connection refused");
        }
        return new SshCall(true, sim.between(5 * SimConfig.MS, 100 * SimConfig.MS) + to.sshExtra, null);
    }

    // --- HostStopper + SshOps.hostStop

    private void hostStop(SimAgent.Lease l, String node, long generation) {
        placement.hostStopQueued(node, generation, sim.now());
        sim.trace(agent.name() + " queues a host stop of " + node + " (generation " + generation + ")");
        submit(node, "host stop", done -> fence(l, node, () -> stopRound(l, node, 0, done)), result -> {
            if (lease != l) {
                return; // a deposed leader's stop proves nothing to its successor
            }
            sim.trace(
                    agent.name() + ": host stop of " + node + (result.ok() ? " ok: " : " FAILED: ") + result.detail());
            placement.hostStopDone(node, result.ok(), result.detail(), sim.now());
            wake();
        });
    }

    /**
     * RemoteScheduler.fence, before a host stop or a stray stop: one SSH command that records this
     * lease's epoch as the host's token (never lowering it); the stop goes on whatever it answered.
     * Off with -Dsim.noToken=true (the behaviour before the token, to see its regression row fail).
     */
    private void fence(SimAgent.Lease l, String node, Runnable then) {
        if (Boolean.getBoolean("sim.noToken")) {
            then.run();
            return;
        }
        SshCall call = ssh(node);
        SimHost host = sim.hosts.get(node);
        if (call.ok()) {
            sim.after(call.delay() / 2, "remote fence on " + node, () -> {
                host.token = Math.max(host.token, l.epoch());
            });
        }
        agent.after(call.delay(), "fence of " + node + " returned", then);
    }

    /** RemoteScheduler.stopAll: look, prove, stop exactly what was seen; up to three rounds, then look. */
    private void stopRound(SimAgent.Lease l, String node, int round, Consumer<Result> done) {
        SshCall look = ssh(node);
        agent.after(look.delay(), "host stop: look at " + node, () -> {
            if (!look.ok()) {
                done.accept(new Result(false, look.error(), List.of()));
                return;
            }
            List<SimHost.Proc> seen = sim.hosts.get(node).alive();
            if (seen.isEmpty()) {
                done.accept(new Result(true, "nothing runs", List.of()));
                return;
            }
            if (round >= 3) {
                done.accept(new Result(false, "scheduler processes keep appearing", seen));
                return;
            }
            if (!prove(l, null)) {
                done.accept(new Result(false, "not stopped: cannot prove leadership", seen));
                return;
            }
            stopExactly(node, seen, "host stop by " + agent.name(), ok -> {
                if (!ok.ok()) {
                    done.accept(ok);
                } else {
                    stopRound(l, node, round + 1, done);
                }
            });
        });
    }

    /** The remote stop script: SIGTERM, SIGKILL after stop-timeout; the call returns when all are gone. */
    private void stopExactly(String node, List<SimHost.Proc> procs, String by, Consumer<Result> done) {
        SshCall call = ssh(node);
        if (!call.ok()) {
            agent.after(
                    call.delay(),
                    "stop on " + node + " failed",
                    () -> done.accept(new Result(false, call.error(), procs)));
            return;
        }
        sim.after(call.delay(), "remote stop on " + node, () -> {
            long gone = sim.now();
            for (SimHost.Proc p : procs) {
                sim.term(p, by);
                if (p.alive()) {
                    gone = Math.max(gone, sim.exitsAt(p));
                }
            }
            long wait = Math.min(gone - sim.now(), cfg.stopTimeout());
            sim.after(cfg.stopTimeout(), "remote SIGKILL on " + node, () -> procs.forEach(p -> sim.kill(p, by)));
            agent.after(
                    wait,
                    "remote stop on " + node + " returned",
                    () -> done.accept(new Result(true, "stopped", procs)));
        });
    }

    // --- StraySweeper

    private void sweep() {
        SimAgent.Lease l = lease;
        if (l == null || agent.reach() != SimAgent.Reach.OK) {
            return;
        }
        Assignment a = sim.zk.scheduler;
        String assigned = a == null ? null : a.node();
        String leaving = a == null ? null : a.movingFrom();
        boolean verify = cfg.verifyAgentsEvery() > 0 && ++sweeps % cfg.verifyAgentsEvery() == 0;
        for (String node : cfg.nodes()) {
            boolean trusted = !placement.isAgentless(node) && sim.zk.agents.containsKey(node) && !verify;
            if (node.equals(assigned) || node.equals(leaving) || busy(node) || trusted) {
                continue;
            }
            submit(node, "sweep", done -> sweepNode(l, node, done), result -> {
                if (result.detail().equals("unreachable")) {
                    placement.unreachable(node, "timed out");
                } else {
                    placement.reachable(node);
                }
                if (lease == l) {
                    wake();
                }
            });
        }
    }

    private void sweepNode(SimAgent.Lease l, String node, Consumer<Result> done) {
        SshCall look = ssh(node);
        agent.after(look.delay(), "sweep: look at " + node, () -> {
            if (!look.ok()) {
                done.accept(new Result(false, "unreachable", List.of()));
                return;
            }
            List<SimHost.Proc> seen = sim.hosts.get(node).alive();
            if (seen.isEmpty()) {
                done.accept(new Result(true, "clean", seen));
                return;
            }
            // stillStray: a fresh read, then a fenced check that nothing changed
            if (agent.reach() != SimAgent.Reach.OK) {
                done.accept(new Result(false, "skipped: cannot prove leadership", seen));
                return;
            }
            Assignment a = sim.zk.scheduler;
            if (a != null && node.equals(a.node())) {
                done.accept(new Result(false, "skipped: now assigned", seen));
                return;
            }
            if (!prove(l, sim.zk.schedulerVersion)) {
                done.accept(new Result(false, "skipped: cannot prove leadership", seen));
                return;
            }
            sim.trace(agent.name() + " stops a stray scheduler on " + node + ": " + seen);
            fence(
                    l,
                    node,
                    () -> stopExactly(
                            node,
                            seen,
                            "stray sweep by " + agent.name(),
                            r -> done.accept(new Result(r.ok(), "stray stopped", seen))));
        });
    }

    // --- AgentlessSupervisor

    private Map<String, Integer> agentlessFailures() {
        Map<String, Integer> out = new TreeMap<>();
        remoteRuns.forEach((n, r) -> out.put(n, r.failures));
        return out;
    }

    private void checkAgentless() {
        SimAgent.Lease l = lease;
        String node = assignedAgentless;
        if (l == null || node == null || busy(node)) {
            return;
        }
        submit(
                node,
                "look",
                done -> {
                    SshCall look = ssh(node);
                    agent.after(
                            look.delay(),
                            "look at " + node,
                            () -> done.accept(
                                    look.ok()
                                            ? new Result(
                                                    true,
                                                    "looked",
                                                    sim.hosts.get(node).alive())
                                            : new Result(false, "unreachable", List.of())));
                },
                result -> lookedAtAgentless(l, node, result));
    }

    private void lookedAtAgentless(SimAgent.Lease l, String node, Result looked) {
        if (lease != l || !node.equals(assignedAgentless)) {
            return;
        }
        if (!looked.ok()) {
            placement.unreachable(node, "timed out");
            wake();
            return;
        }
        placement.reachable(node);
        RemoteRun run = remoteRuns.computeIfAbsent(node, n -> new RemoteRun());
        long now = sim.now();
        if (!looked.seen().isEmpty()) {
            if (!run.running) {
                run.running = true;
                run.runningSince = now;
            }
            if (run.failures > 0 && now - run.runningSince >= cfg.startTimeout()) {
                run.failures = 0;
            }
            return;
        }
        long settle = Math.max(cfg.restartSleep(), cfg.check());
        boolean started = run.startedAt != Long.MIN_VALUE;
        if (started && !run.running && now - run.startedAt < settle) {
            return;
        }
        if (started
                && !run.running
                && run.startedPid > 0
                && pidAlive(node, run.startedPid)
                && now - run.startedAt < cfg.startTimeout()) {
            return;
        }
        if (run.running || started) {
            run.failures++;
        }
        run.running = false;
        if (run.failures >= placement.maxFailures()) {
            wake();
            return;
        }
        run.startedAt = now;
        run.startedPid = -1;
        submit(node, "agentless start", done -> startIfAssigned(l, node, done), result -> {
            run.startedAt = sim.now();
            run.startedPid =
                    result.ok() && !result.seen().isEmpty() ? result.seen().get(0).id : -1;
        });
    }

    private boolean pidAlive(String node, int pid) {
        for (SimHost.Proc p : sim.hosts.get(node).alive()) {
            if (p.id == pid) {
                return true;
            }
        }
        return false;
    }

    /** SshOps.startIfAssigned: a fresh read, a fenced check, then the remote start. */
    private void startIfAssigned(SimAgent.Lease l, String node, Consumer<Result> done) {
        if (agent.reach() != SimAgent.Reach.OK) {
            done.accept(new Result(false, "ZooKeeper unreachable", List.of()));
            return;
        }
        Assignment a = sim.zk.scheduler;
        if (a == null || !node.equals(a.node()) || a.epoch() != l.epoch()) {
            done.accept(new Result(false, "not assigned at this epoch", List.of()));
            return;
        }
        if (!prove(l, sim.zk.schedulerVersion)) {
            done.accept(new Result(false, "cannot prove leadership", List.of()));
            return;
        }
        SshCall call = ssh(node);
        SimHost host = sim.hosts.get(node);
        if (!call.ok()) {
            if (call.error().equals("timed out")
                    && sim.rnd.nextBoolean()
                    && host.sshCuts == 0
                    && agent.host.sshCuts == 0) {
                // the command reached the host and ran; only its answer never came
                sim.after(
                        sim.jitter(call.delay()),
                        "remote start on " + node + " (answer lost)",
                        () -> remoteStart(l, host));
            }
            agent.after(
                    call.delay(),
                    "agentless start on " + node + " failed",
                    () -> done.accept(new Result(false, call.error(), List.of())));
            return;
        }
        List<SimHost.Proc> started = new ArrayList<>();
        sim.after(call.delay() / 2, "remote start on " + node, () -> {
            SimHost.Proc p = remoteStart(l, host);
            if (p != null) {
                started.add(p);
            }
        });
        agent.after(
                call.delay(),
                "agentless start on " + node + " returned",
                () -> done.accept(new Result(true, "started", started)));
    }

    /** The remote start under the host's lock: refused (null) when a newer epoch fenced the host. */
    private SimHost.Proc remoteStart(SimAgent.Lease l, SimHost host) {
        if (!Boolean.getBoolean("sim.noToken")) {
            if (host.token > l.epoch()) {
                sim.trace(
                        "remote start on " + host.name + " REFUSED: epoch " + l.epoch() + " < recorded " + host.token);
                return null;
            }
            host.token = l.epoch();
        }
        return sim.launch(host, null);
    }
}
