package io.asfc.agent.sim;

import io.asfc.agent.supervisor.SimSupervision;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One incarnation of an agent JVM on a simulated host: its ZooKeeper client (connection states as
 * Curator reports them), and the parts of Agent that matter to S1, each a faithful model of the
 * real class with the real decision cores: Membership (the heartbeat of {@code agents/<node>}),
 * Election (latch order, epoch, lease), the Reconciler ({@link SimSupervision#step}, {@link
 * SimSupervision.Restart}), the SelfFence, the DeadmanFeeder and, while it leads, the {@link
 * SimController}.
 *
 * <p>Every step of the JVM runs as an event through {@link #after}: while the JVM is frozen those
 * events wait, in order, and run at the thaw; once it has crashed they are dropped. Its scheduler
 * processes and their watchdogs are not part of the JVM and go on.
 */
final class SimAgent {
    enum Conn {
        CONNECTING,
        CONNECTED,
        SUSPENDED,
        LOST
    }

    /** Whether a request reached the server, and whether its answer came back. */
    enum Reach {
        OK,
        LOST_REPLY,
        FAILED
    }

    record Lease(long epoch, long latchSeq) {}

    private final Simulation sim;
    private final SimConfig cfg;
    private final String node;
    final SimHost host;
    private final int incarnation;
    private boolean alive = true;
    private int frozen;
    private final List<Runnable> deferred = new ArrayList<>();

    // the ZooKeeper client
    private Conn conn = Conn.CONNECTING;
    SimZk.Session session;
    private boolean silent;
    private long lastHeard;
    /** When the DeadmanFeeder's last ping was answered: the server heard this client then. */
    private long lastAnsweredPing;

    private int netToken;
    private int connectToken;
    private int connEpoch;
    private boolean booted;

    // SupervisionState and the reconciler's own state
    private long connGen;
    private boolean suspended = true;
    private long selfFences;
    private boolean expectRunning;
    private int stopping;
    private boolean diedSinceStart;
    private boolean starting;
    private Long observed;
    private final SimSupervision.Restart restarts;
    private boolean busy;
    private boolean reconcilePending;
    private int selfFenceToken;
    private boolean selfFenceArmed;

    // Membership
    private SchedulerState published = SchedulerState.STOPPED;
    private long beatSeq;

    // Election
    private Long latchSeq;
    private Lease lease;
    private Lease lastLease;
    final SimController controller;

    SimAgent(Simulation sim, SimHost host, int incarnation) {
        this.sim = sim;
        this.cfg = sim.cfg;
        this.node = host.name;
        this.host = host;
        this.incarnation = incarnation;
        this.restarts =
                new SimSupervision.Restart(Duration.ofNanos(cfg.restartSleep()), Duration.ofNanos(cfg.startTimeout()));
        this.controller = new SimController(sim, this);
    }

    String name() {
        return node + "#" + incarnation;
    }

    int incarnation() {
        return incarnation;
    }

    boolean alive() {
        return alive;
    }

    Lease lease() {
        return lease;
    }

    boolean frozen() {
        return frozen > 0;
    }

    /** A step of this JVM: waits while it is frozen, dropped once it crashed. */
    void after(long delay, String label, Runnable r) {
        sim.after(delay, node + ": " + label, () -> run(r));
    }

    private void run(Runnable r) {
        if (!alive) {
            return;
        }
        if (frozen > 0) {
            deferred.add(r);
            return;
        }
        r.run();
    }

    private void every(long period, String label, Runnable r) {
        after(period, label, () -> {
            r.run();
            every(period, label, r);
        });
    }

    // --- lifecycle and faults

    void boot() {
        sim.trace(name() + " starts");
        tryConnect();
    }

    /** kill -9: the JVM is gone; the server hears nothing more; in child mode every watchdog's pipe closes. */
    void crash() {
        if (!alive) {
            return;
        }
        sim.trace(name() + " CRASHED (kill -9)");
        if (conn == Conn.CONNECTED && !silent && session != null) {
            sim.zk.silent(session, sim.now() - sim.jitter(lastPingGap()));
        } else if (session != null) {
            sim.zk.silent(session, sim.now());
        }
        alive = false;
        deferred.clear();
        if (cfg.childMode()) {
            for (SimHost.Proc p : host.alive()) {
                p.agentDiedWhileStopping = p.termAt != null;
                if (p.owner != null) {
                    sim.watchdogFire(p, "the agent is gone (its pipe closed)");
                }
            }
        }
    }

    void freeze() {
        if (!alive) {
            return;
        }
        frozen++;
        for (SimHost.Proc p : host.alive()) {
            p.agentFroze = true;
        }
        sim.trace(name() + " FROZEN");
        if (frozen == 1 && conn == Conn.CONNECTED && !silent) {
            // the client sends nothing more: its last packet was its last request or ping
            silent = true;
            long p = Math.max(sim.now() - sim.jitter(lastPingGap()), lastAnsweredPing);
            lastHeard = p;
            netToken++;
            sim.zk.silent(session, p);
        }
    }

    void thaw() {
        if (!alive || frozen == 0) {
            return;
        }
        frozen--;
        if (frozen > 0) {
            return;
        }
        sim.trace(name() + " THAWED");
        // The client's send thread notices first that it heard nothing for too long.
        if (conn == Conn.CONNECTED && silent && sim.now() - lastHeard >= 2 * cfg.session() / 3) {
            suspend();
        } else if (conn == Conn.CONNECTED && silent && !host.zkUp()) {
            armSuspend(); // still cut off: it will notice 2/3 x session-timeout after it last heard
        }
        netChanged();
        List<Runnable> waiting = new ArrayList<>(deferred);
        deferred.clear();
        for (Runnable r : waiting) {
            sim.after(0, node + ": deferred step", () -> run(r));
        }
    }

    /** How long before a cut the server may have last heard this client: its last read or ping. */
    private long lastPingGap() {
        return Math.min(Math.min(cfg.session() / 3, cfg.check()), Math.max(cfg.deadman() / 10, 50 * SimConfig.MS));
    }

    // --- the ZooKeeper client

    /** A link of this host changed. */
    void netChanged() {
        if (!alive || frozen > 0) {
            return;
        }
        boolean up = host.zkUp();
        if (conn == Conn.CONNECTED && !up && !silent) {
            silent = true;
            long p = Math.max(sim.now() - sim.jitter(lastPingGap()), lastAnsweredPing);
            lastHeard = p;
            if (!host.zkIn) {
                sim.zk.silent(session, p);
            }
            armSuspend();
        } else if (conn == Conn.CONNECTED && up && silent) {
            silent = false;
            netToken++;
            if (session.expired) {
                learnExpired();
            } else {
                sim.zk.heard(session);
            }
        } else if (conn == Conn.CONNECTED && silent && host.zkIn) {
            // only the answers are dropped: the server still hears the pings until the client gives up
        } else if (conn == Conn.CONNECTED && silent && !host.zkIn) {
            sim.zk.silent(session, sim.now());
        }
        if (conn != Conn.CONNECTED && up) {
            tryConnect();
        }
    }

    /** The client's send thread: SUSPENDED when nothing was heard for 2/3 of the session timeout. */
    private void armSuspend() {
        int token = ++netToken;
        long suspendAt = lastHeard + 2 * cfg.session() / 3;
        after(suspendAt - sim.now(), "client: nothing heard for 2/3 x session-timeout", () -> {
            if (token == netToken && conn == Conn.CONNECTED && silent) {
                suspend();
            }
        });
    }

    private void tryConnect() {
        int token = ++connectToken;
        after(sim.between(10 * SimConfig.MS, 500 * SimConfig.MS), "client: connect attempt", () -> {
            if (token != connectToken || conn == Conn.CONNECTED || !host.zkUp()) {
                return; // netChanged tries again when the link is back
            }
            boolean newSession = session == null || session.expired || conn == Conn.LOST;
            if (newSession && conn == Conn.SUSPENDED) {
                lost(); // the server says: session expired; the client then opens a new one
                after(sim.between(SimConfig.MS, 100 * SimConfig.MS), "client: new session", () -> {
                    if (token == connectToken && conn == Conn.LOST && host.zkUp()) {
                        open(true);
                    }
                });
                return;
            }
            open(newSession);
        });
    }

    private void open(boolean newSession) {
        if (newSession) {
            session = sim.zk.newSession(node);
        } else {
            sim.zk.heard(session);
        }
        conn = Conn.CONNECTED;
        connEpoch++;
        silent = false;
        lastHeard = sim.now();
        sim.trace(name() + " " + (booted ? "RECONNECTED" : "CONNECTED") + (newSession ? " (new session)" : ""));
        connected(newSession);
    }

    private void suspend() {
        conn = Conn.SUSPENDED;
        sim.zk.silent(session, sim.now()); // it sends nothing more on this connection
        sim.trace(name() + " SUSPENDED");
        onSuspended();
        revoke();
        int token = connEpoch;
        after(cfg.session(), "curator: session-timeout elapsed while SUSPENDED", () -> {
            if (token == connEpoch && conn == Conn.SUSPENDED) {
                lost();
            }
        });
        if (host.zkUp()) {
            tryConnect();
        }
    }

    private void lost() {
        conn = Conn.LOST;
        sim.trace(name() + " LOST");
        onLost();
        revoke();
    }

    /** The server answered "session expired". */
    private void learnExpired() {
        if (conn != Conn.LOST) {
            conn = Conn.SUSPENDED;
            lost();
        }
        if (host.zkUp()) {
            tryConnect();
        }
    }

    boolean connected() {
        return alive && frozen == 0 && conn == Conn.CONNECTED;
    }

    Reach reach() {
        if (!alive || frozen > 0 || conn != Conn.CONNECTED) {
            return Reach.FAILED;
        }
        if (!host.zkIn) {
            return Reach.FAILED;
        }
        if (session.expired) {
            learnExpired();
            return Reach.FAILED;
        }
        sim.zk.heard(session);
        return host.zkOut ? Reach.OK : Reach.LOST_REPLY;
    }

    private void connected(boolean newSession) {
        // SelfFence.connectionChanged(CONNECTED | RECONNECTED)
        connGen++;
        suspended = false;
        selfFenceToken++;
        selfFenceArmed = false;
        if (newSession) {
            latchSeq = null;
        }
        if (!booted) {
            booted = true;
            // Agent.start: membership (register), deadman, supervisor, controller, election
            beat();
            every(cfg.heartbeat(), "heartbeat", this::beat);
            every(Math.max(cfg.deadman() / 10, 50 * SimConfig.MS), "deadman renewal", this::renew);
            after(0, "reconcile", this::reconcile);
            every(cfg.check(), "reconcile (check-interval)", this::reconcile);
            controller.start();
        } else {
            after(0, "reconcile after reconnect", this::reconcile);
        }
        // Election: the latch (a new node in a new session), then leadership
        if (latchSeq == null) {
            Reach r = reach();
            if (r != Reach.FAILED) {
                latchSeq = sim.zk.createLatch(node, session.id);
            }
        }
        checkLeader();
    }

    /** A cache of a watched path delivers a change. */
    void watched(String what) {
        if (!connected() || !host.zkOut) {
            return;
        }
        if (what.equals("scheduler") || what.equals("control")) {
            after(sim.between(SimConfig.MS, 20 * SimConfig.MS), "cache: " + what + " changed", this::reconcile);
        }
        if (lease != null) {
            controller.wake();
        }
    }

    // --- Election

    void latchWatch() {
        if (alive && lease == null && latchSeq != null) {
            after(sim.between(SimConfig.MS, 20 * SimConfig.MS), "latch changed", this::becomeLeader);
        }
    }

    private void checkLeader() {
        after(sim.between(SimConfig.MS, 20 * SimConfig.MS), "latch check", this::becomeLeader);
    }

    private void becomeLeader() {
        if (lease != null || !connected() || latchSeq == null) {
            return;
        }
        Long leading = sim.zk.leadingLatch();
        if (leading == null || !leading.equals(latchSeq)) {
            return;
        }
        Reach r = reach();
        if (r != Reach.OK) {
            after(SimConfig.S, "election retry", this::becomeLeader);
            return;
        }
        if (lastLease != null && lastLease.latchSeq() == latchSeq && sim.zk.epochVersion == lastLease.epoch()) {
            lease = lastLease;
        } else {
            sim.zk.epochVersion++;
            sim.zk.zxid++;
            lease = new Lease(sim.zk.epochVersion, latchSeq);
        }
        lastLease = lease;
        sim.trace(name() + " ACTIVE at epoch " + lease.epoch());
        controller.onRole(lease);
    }

    /** SUSPENDED or LOST: stop acting as ACTIVE at once. */
    private void revoke() {
        if (lease != null) {
            sim.trace(name() + " stops acting as ACTIVE (epoch " + lease.epoch() + ")");
            lease = null;
            controller.onRole(null);
        }
    }

    /** Election.leadershipLost: a fenced write proved the lease gone. */
    void leadershipLost(Lease l) {
        if (lease == l) {
            sim.trace(name() + ": a fenced write proved leadership at epoch " + l.epoch() + " gone");
            lease = null;
            lastLease = null;
            controller.onRole(null);
            after(SimConfig.S, "election retry", this::becomeLeader);
        }
    }

    /** The fenced multi's own checks: the latch node is ours and the epoch has the lease's version. */
    boolean leaseHolds(Lease l) {
        SimZk.Latch latch = sim.zk.latches.get(l.latchSeq());
        return latch != null && latch.session() == session.id && sim.zk.epochVersion == l.epoch();
    }

    // --- Membership

    private void beat() {
        Reach r = reach();
        if (r == Reach.FAILED) {
            return;
        }
        AgentRecord record = new AgentRecord(
                node,
                "host-" + node,
                1000 + incarnation,
                "sim",
                lease != null ? AgentRecord.Role.ACTIVE : AgentRecord.Role.STANDBY,
                published,
                new AgentRecord.Heartbeat(++beatSeq, sim.wall()),
                Simulation.BASE);
        SimZk.Eph e = sim.zk.agents.get(node);
        if (e == null || e.owner() != session.id) {
            // NoNode: re-created in this session; or left by an earlier session of ours: taken over
            sim.trace(name() + " registers agents/" + node + " in session 0x" + Long.toHexString(session.id));
        }
        sim.zk.writeAgent(node, record, session.id);
    }

    private void report(boolean running) {
        SimHost.Proc first = host.alive().isEmpty() ? null : host.alive().get(0);
        SchedulerState state = new SchedulerState(
                running,
                running,
                running && first != null ? (long) first.id : null,
                null,
                restarts.failures(),
                starting,
                observed);
        if (!state.equals(published)) {
            published = state;
            after(sim.between(0, 5 * SimConfig.MS), "heartbeat (report)", this::beat);
        }
    }

    // --- DeadmanFeeder

    /**
     * The DeadmanFeeder asks ZooKeeper and renews only when the answer comes: a ping that the server
     * heard (so the server's last contact is never before the last renewal) and that came back.
     */
    private void renew() {
        if (conn == Conn.CONNECTED && !silent && host.zkUp()) {
            lastAnsweredPing = sim.now();
        }
        if (conn == Conn.CONNECTED && !silent && host.zkUp() && cfg.childMode()) {
            for (SimHost.Proc p : host.alive()) {
                if (p.owner != null) {
                    p.lastRenewal = sim.now();
                    p.agentFroze = p.agentFroze && p.termAt != null;
                }
            }
        }
    }

    // --- SelfFence

    private void onSuspended() {
        connGen++;
        suspended = true;
        if (!selfFenceArmed) {
            selfFenceArmed = true;
            int token = ++selfFenceToken;
            after(cfg.selfFenceAfter(), "self-fence timer", () -> {
                if (token == selfFenceToken) {
                    selfFenceArmed = false;
                    fence();
                }
            });
        }
    }

    private void onLost() {
        connGen++;
        suspended = true;
        after(sim.jitter(2 * SimConfig.MS), "self-fence on LOST", this::fence);
    }

    private void fence() {
        if (!SimSupervision.selfFences(suspended, conn == Conn.CONNECTED)) {
            return;
        }
        selfFences++;
        if (!host.alive().isEmpty()) {
            sim.trace(name() + " SELF-FENCES");
        }
        if (cfg.childMode()) {
            // SelfFence tells the watchdog first: its kill clock starts now too and survives this agent
            for (SimHost.Proc p : host.alive()) {
                if (p.owner != null) {
                    sim.watchdogFire(p, "the agent is self-fencing");
                }
            }
        }
        stopTree(cfg.selfFenceStopTimeout(), "self-fence", () -> {});
    }

    // --- the Reconciler

    void childExited() {
        after(0, "child exited", this::reconcile);
    }

    private boolean running() {
        return !host.alive().isEmpty();
    }

    private void reconcile() {
        if (busy) {
            reconcilePending = true; // the supervisor thread is in a start or a stop: it runs after
            return;
        }
        long generation = connGen;
        if (suspended || conn != Conn.CONNECTED) {
            report(running());
            return;
        }
        if (reach() != Reach.OK) {
            return; // reconcile failed; retried at check-interval
        }
        Assignment a = sim.zk.scheduler;
        Long assignmentZxid = a == null ? null : sim.zk.schedulerMzxid;
        long epoch = sim.zk.epochVersion;
        boolean paused = sim.zk.control.paused();
        boolean status = running();
        boolean mine = a != null && node.equals(a.node());
        SimSupervision.Decision step = SimSupervision.step(paused, false, mine, status);
        if (step == SimSupervision.Decision.HOLD) {
            report(status);
            return;
        }
        if (!status && expectRunning && stopping == 0) {
            expectRunning = false;
            diedSinceStart = true;
            sim.trace(name() + ": the scheduler exited on its own");
            failed();
        }
        busy = true;
        Runnable finish = () -> {
            boolean after = running();
            if (assignmentZxid != null && after == mine && !starting) {
                observed = assignmentZxid;
            }
            report(after);
            busy = false;
            if (reconcilePending) {
                reconcilePending = false;
                after(0, "reconcile (queued)", this::reconcile);
            }
        };
        switch (step) {
            case STOP -> {
                sim.trace(name() + " stops its scheduler: " + (a == null ? "no node is assigned" : SimZk.describe(a)));
                stopTree(cfg.stopTimeout(), "reconciler", finish);
            }
            case START -> startIfDue(a, epoch, generation, finish);
            case KEEP -> {
                restarts.resetIfStable(sim.now());
                finish.run();
            }
            default -> finish.run();
        }
    }

    private void startIfDue(Assignment a, long epoch, long generation, Runnable finish) {
        if (a.epoch() != epoch) {
            finish.run(); // waiting for the leader to confirm at the current epoch
            return;
        }
        long wait = restarts.waitNanos(sim.now());
        if (wait > 0) {
            after(wait, "reconcile (restart-sleep)", this::reconcile);
            finish.run();
            return;
        }
        SimZk.Eph mine = sim.zk.agents.get(node);
        if (mine == null || mine.owner() != session.id) {
            after(cfg.check(), "reconcile (not visible yet)", this::reconcile);
            finish.run();
            return;
        }
        if (suspended || generation != connGen || conn != Conn.CONNECTED) {
            finish.run();
            return;
        }
        Runnable start = () -> {
            long fencesBefore = selfFences;
            starting = true;
            report(false);
            SimHost.Proc p = sim.launch(host, this);
            sim.trace(name() + " starts the scheduler (" + p + ") for " + SimZk.describe(a));
            after(sim.startDelay(host), "start returned", () -> {
                expectRunning = true;
                restarts.started(sim.now());
                starting = false;
                if (selfFences != fencesBefore || suspended || generation != connGen) {
                    sim.trace(name() + ": the connection changed while it started; stops what it started");
                    stopTree(cfg.selfFenceStopTimeout(), "start during a self-fence", finish);
                    return;
                }
                finish.run();
            });
        };
        if (diedSinceStart) {
            diedSinceStart = false;
            stopTree(cfg.stopTimeout(), "leftovers of a dead scheduler", start);
        } else {
            start.run();
        }
    }

    private void failed() {
        restarts.failed(sim.now());
        after(cfg.restartSleep(), "reconcile (after a failure)", this::reconcile);
    }

    /**
     * SchedulerRunner.stop(grace): SIGTERM to every scheduler process here, SIGKILL after
     * {@code grace} to what is left; returns when all are gone. The SIGKILL is this JVM's step.
     */
    private void stopTree(long grace, String why, Runnable then) {
        stopping++;
        expectRunning = false;
        List<SimHost.Proc> procs = host.alive();
        long gone = sim.now();
        for (SimHost.Proc p : procs) {
            sim.term(p, name() + " (" + why + ")");
            gone = Math.max(gone, sim.exitsAt(p));
        }
        Runnable done = () -> {
            stopping--;
            then.run();
        };
        if (procs.isEmpty()) {
            done.run();
        } else if (gone - sim.now() <= grace) {
            after(gone - sim.now(), "stop returns", done);
        } else {
            after(grace, "SIGKILL after " + SimConfig.ms(grace), () -> {
                for (SimHost.Proc p : procs) {
                    sim.kill(p, name() + " (" + why + ", after " + SimConfig.ms(grace) + ")");
                }
                done.run();
            });
        }
    }
}
