package io.asfc.agent.sim;

import io.asfc.common.zk.ControlRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A single-threaded discrete-event simulation of an asfc cluster: a simulated clock (nanoseconds),
 * one queue of events ordered by time and then by the order they were queued, and one seeded
 * {@link Random} that decides every fault's effect and every interleaving (the jitter of each
 * delay). The same config, seed and schedule give the same run, event for event.
 *
 * <p>After every event it checks S1 as a process count: at most one scheduler process exists on all
 * hosts together, counting processes that are starting or shutting down. After the last fault has
 * healed it checks L1: a scheduler runs again within {@link SimConfig#l1Bound()}.
 */
public final class Simulation {
    /** The outcome of one run. */
    /**
     * The outcome of one run.
     *
     * @param known the known finding the overlap belongs to (see SimulationTest), or null
     */
    public record Result(
            boolean ok,
            String violation,
            long events,
            long simulatedNanos,
            List<String> trace,
            String summary,
            String known) {}

    private record Ev(long at, long seq, String label, Runnable run) {}

    static final Instant BASE = Instant.parse("2026-12-07T12:00:00Z");
    /** Faults are drawn after this: the cluster has settled with one scheduler. */
    static final long WARMUP = 20 * SimConfig.S;

    final SimConfig cfg;
    final Random rnd;
    final SimZk zk;
    final Map<String, SimHost> hosts = new LinkedHashMap<>();
    final Map<String, SimAgent> agents = new LinkedHashMap<>();
    private final List<Fault> faults;
    private final PriorityQueue<Ev> queue =
            new PriorityQueue<>((x, y) -> x.at != y.at ? Long.compare(x.at, y.at) : Long.compare(x.seq, y.seq));
    private final boolean tracing;
    private final List<String> trace = new ArrayList<>();
    private long now;
    private long seq;
    private long events;
    private int procIds;
    private int requests;
    private String violation;
    private String known;
    private long lastHeal;
    private Long runningAgainAt;
    private boolean healed;
    boolean crashLeaderOnMove;
    private long crashLeaderRestart;

    Simulation(SimConfig cfg, long seed, List<Fault> faults, boolean tracing) {
        this.cfg = cfg;
        this.rnd = new Random(seed);
        this.faults = faults;
        this.tracing = tracing;
        this.zk = new SimZk(this);
    }

    public static Result run(SimConfig cfg, long seed, List<Fault> faults, boolean tracing) {
        return new Simulation(cfg, seed, faults, tracing).run();
    }

    private Result run() {
        for (String node : cfg.nodes()) {
            boolean agentless = cfg.agentless().contains(node);
            hosts.put(node, new SimHost(node, agentless));
        }
        trace("config " + cfg.describe());
        trace("faults " + Fault.format(faults));
        for (SimHost h : hosts.values()) {
            if (!h.agentless) {
                long boot = rnd.nextInt(500) * SimConfig.MS;
                at(boot, "boot " + h.name, () -> startAgent(h.name, 1));
            }
        }
        lastHeal = WARMUP;
        for (Fault f : faults) {
            at(f.at(), "fault " + f, () -> apply(f));
            lastHeal = Math.max(lastHeal, healTime(f));
        }
        at(lastHeal, "the last fault healed", () -> {
            healed = true;
            trace("the last fault has healed; L1 bound " + SimConfig.ms(cfg.l1Bound()));
            checkRunningAgain();
        });
        long end = lastHeal + cfg.l1Bound() + 5 * SimConfig.S;
        while (!queue.isEmpty() && violation == null) {
            Ev ev = queue.poll();
            if (ev.at > end) {
                break;
            }
            now = ev.at;
            events++;
            ev.run.run();
            checkS1();
            if (healed && runningAgainAt == null) {
                checkRunningAgain();
            }
        }
        if (violation == null) {
            if (runningAgainAt == null || runningAgainAt - lastHeal > cfg.l1Bound()) {
                violation = "L1: no scheduler ran within " + SimConfig.ms(cfg.l1Bound()) + " of the last heal at "
                        + fmt(lastHeal)
                        + (runningAgainAt == null ? " (none ran)" : " (ran at " + fmt(runningAgainAt) + ")");
                trace(violation);
            }
        }
        String summary = summary();
        return new Result(violation == null, violation, events, now, trace, summary, known);
    }

    private long healTime(Fault f) {
        return switch (f.kind()) {
            case KILL_SCHEDULER, FAILOVER -> f.at();
            case CRASH_AGENT -> f.duration() == 0 ? f.at() : f.end();
            default -> f.end();
        };
    }

    private void checkRunningAgain() {
        for (SimHost h : hosts.values()) {
            for (SimHost.Proc p : h.procs) {
                if (p.alive() && p.termAt == null) {
                    runningAgainAt = now;
                    trace("L1: " + p + " runs, " + SimConfig.ms(now - lastHeal) + " after the last heal");
                    return;
                }
            }
        }
    }

    private void checkS1() {
        List<SimHost.Proc> alive = new ArrayList<>();
        for (SimHost h : hosts.values()) {
            alive.addAll(h.alive());
        }
        if (alive.size() > 1) {
            StringBuilder sb = new StringBuilder("S1: " + alive.size() + " scheduler processes at " + fmt(now) + ":");
            for (SimHost.Proc p : alive) {
                if (p.owner != null && (p.deadmanFired || p.agentFroze)) {
                    known = "F1 deadman budget"; // a freeze of its agent delayed S4: only the deadman could stop it
                } else if (p.owner != null && p.agentDiedWhileStopping && known == null) {
                    known = "F2 agent killed while stopping"; // the watchdog's SIGKILL clock started again
                }
            }
            for (SimHost.Proc p : alive) {
                sb.append(' ').append(p).append("(launched ").append(fmt(p.launchedAt));
                sb.append(p.termAt == null ? ", running" : ", SIGTERM at " + fmt(p.termAt))
                        .append(')');
            }
            violation = sb.toString();
            trace(violation);
        }
    }

    // --- the event queue

    long now() {
        return now;
    }

    Instant wall() {
        return BASE.plusNanos(now);
    }

    void at(long t, String label, Runnable r) {
        queue.add(new Ev(Math.max(t, now), seq++, label, r));
    }

    void after(long delay, String label, Runnable r) {
        at(now + Math.max(0, delay), label, r);
    }

    /** A delay in [0, max], drawn from the seed. */
    long jitter(long max) {
        return max <= 0 ? 0 : (long) (rnd.nextDouble() * max);
    }

    long between(long min, long max) {
        return min + jitter(max - min);
    }

    void trace(String s) {
        if (tracing) {
            trace.add("[" + fmt(now) + "] " + s);
        }
    }

    static String fmt(long nanos) {
        return String.format("%d.%03ds", nanos / SimConfig.S, (nanos % SimConfig.S) / SimConfig.MS);
    }

    // --- watches

    /** A watched znode changed: caches deliver it to connected clients. */
    void changed(String what) {
        for (SimAgent a : agents.values()) {
            a.watched(what);
        }
    }

    void latchChanged() {
        for (SimAgent a : agents.values()) {
            a.latchWatch();
        }
    }

    // --- processes

    SimHost.Proc launch(SimHost h, SimAgent owner) {
        SimHost.Proc p = new SimHost.Proc(++procIds, h, now, jitter(cfg.maxExitDelay()), owner);
        h.procs.add(p);
        trace(p + " LAUNCHED by " + (owner == null ? "SSH" : owner.name()));
        if (cfg.childMode() && owner != null) {
            watchdogCheck(p);
        }
        return p;
    }

    long startDelay(SimHost h) {
        return h.startDelayOverride != null ? h.startDelayOverride : jitter(cfg.maxStartDelay());
    }

    void term(SimHost.Proc p, String by) {
        if (!p.alive() || p.termAt != null) {
            return;
        }
        p.termAt = now;
        long delay = p.host.exitDelayOverride != null ? p.host.exitDelayOverride : p.exitDelay;
        p.exitAt = now + delay;
        trace(p + " SIGTERM by " + by + " (exits in " + SimConfig.ms(delay) + ")");
        at(p.exitAt, p + " exits on SIGTERM", () -> exit(p, "exited on SIGTERM"));
    }

    void kill(SimHost.Proc p, String by) {
        if (p.alive()) {
            trace(p + " SIGKILL by " + by);
            exit(p, "killed");
        }
    }

    /** When a process still alive will be gone without a SIGKILL (Long.MAX_VALUE if not terminating). */
    long exitsAt(SimHost.Proc p) {
        return p.exitAt == null ? Long.MAX_VALUE : p.exitAt;
    }

    private void exit(SimHost.Proc p, String why) {
        if (!p.alive()) {
            return;
        }
        p.exitedAt = now;
        trace(p + " EXITED (" + why + ")");
        if (p.owner != null && cfg.childMode()) {
            SimAgent current = agents.get(p.host.name);
            if (current != null) {
                current.childExited(); // child mode sees a death at once
            }
        }
    }

    private void watchdogCheck(SimHost.Proc p) {
        long due = p.lastRenewal + cfg.deadman();
        at(due, "deadman check " + p, () -> {
            if (!p.alive() || p.watchdogFired) {
                return;
            }
            if (now - p.lastRenewal >= cfg.deadman()) {
                watchdogFire(p, "no renewal for " + SimConfig.ms(cfg.deadman()) + " (deadman)");
            } else {
                watchdogCheck(p);
            }
        });
    }

    /** The watchdog leading the scheduler's session: SIGTERM, SIGKILL after self-fence-stop-timeout. */
    void watchdogFire(SimHost.Proc p, String why) {
        if (!p.alive() || p.watchdogFired) {
            return;
        }
        p.watchdogFired = true;
        p.deadmanFired = why.contains("deadman");
        trace("watchdog of " + p + ": " + why);
        term(p, "watchdog");
        after(cfg.selfFenceStopTimeout(), "watchdog SIGKILL " + p, () -> kill(p, "watchdog"));
    }

    // --- agents and faults

    private void startAgent(String node, int incarnation) {
        SimAgent a = new SimAgent(this, hosts.get(node), incarnation);
        agents.put(node, a);
        a.boot();
    }

    SimAgent leader() {
        for (SimAgent a : agents.values()) {
            if (a.alive() && a.lease() != null) {
                return a;
            }
        }
        return null;
    }

    /** CRASH_LEADER_ON_MOVE: the leader that just wrote a move's first phase dies. */
    void leaderWroteMove(SimAgent a) {
        if (crashLeaderOnMove) {
            crashLeaderOnMove = false;
            trace("fault: " + a.name() + " is killed right after writing node:null");
            a.crash();
            if (crashLeaderRestart > 0) {
                int inc = a.incarnation() + 1;
                after(crashLeaderRestart, "restart " + a.name(), () -> startAgent(a.host.name, inc));
            }
        }
    }

    /** A role in a schedule (holder, leader, standby) as it stands now, or the host named. */
    String resolve(String name) {
        String holder = zk.scheduler == null
                ? null
                : zk.scheduler.node() != null ? zk.scheduler.node() : zk.scheduler.movingFrom();
        SimAgent leader = leader();
        String lead = leader == null ? null : leader.host.name;
        switch (name) {
            case "holder":
                return holder != null ? holder : cfg.nodes().get(0);
            case "leader":
                return lead != null ? lead : cfg.nodes().get(0);
            case "standby":
                String fallback = null;
                for (String n : cfg.nodes()) {
                    if (cfg.agentless().contains(n) || n.equals(holder)) {
                        continue;
                    }
                    if (!n.equals(lead)) {
                        return n;
                    }
                    fallback = n;
                }
                return fallback != null ? fallback : cfg.nodes().get(0);
            default:
                return name;
        }
    }

    private void apply(Fault given) {
        if (given.host().equals("*")) {
            for (String n : cfg.nodes()) {
                apply(new Fault(given.at(), given.kind(), n, given.duration(), given.arg()));
            }
            return;
        }
        String arg = given.kind() == Fault.Kind.FAILOVER
                        && given.arg() != null
                        && !given.arg().equals("-")
                ? resolve(given.arg())
                : given.arg();
        Fault f = new Fault(given.at(), given.kind(), resolve(given.host()), given.duration(), arg);
        trace("FAULT " + f);
        SimHost h = hosts.get(f.host());
        switch (f.kind()) {
            case CUT_ZK, CUT_ZK_IN, CUT_ZK_OUT, CUT_SSH, CUT_ALL -> cut(f, h, true);
            case FREEZE_AGENT -> freeze(agents.get(f.host()), f.duration());
            case FREEZE_LEADER -> freeze(leader(), f.duration());
            case CRASH_AGENT -> {
                SimAgent a = agents.get(f.host());
                if (a != null && a.alive()) {
                    a.crash();
                    if (f.duration() > 0) {
                        int inc = a.incarnation() + 1;
                        after(f.duration(), "restart " + a.name(), () -> startAgent(a.host.name, inc));
                    }
                }
            }
            case KILL_SCHEDULER -> {
                for (SimHost.Proc p : h.alive()) {
                    kill(p, "fault");
                }
            }
            case SSH_REFUSE, SSH_HANG -> {
                h.sshd = f.kind() == Fault.Kind.SSH_REFUSE ? SimHost.Sshd.REFUSE : SimHost.Sshd.HANG;
                after(f.duration(), "heal " + f, () -> h.sshd = SimHost.Sshd.OK);
            }
            case SSH_SLOW -> {
                h.sshExtra = Long.parseLong(f.arg()) * SimConfig.MS;
                after(f.duration(), "heal " + f, () -> h.sshExtra = 0);
            }
            case SLOW_EXIT -> {
                h.exitDelayOverride = Long.parseLong(f.arg()) * SimConfig.MS;
                after(f.duration(), "heal " + f, () -> h.exitDelayOverride = null);
            }
            case SLOW_START -> {
                h.startDelayOverride = Long.parseLong(f.arg()) * SimConfig.MS;
                after(f.duration(), "heal " + f, () -> h.startDelayOverride = null);
            }
            case FAILOVER -> {
                String to = f.arg() == null || f.arg().equals("-") ? "" : f.arg();
                // the command line's unfenced write of control, with an id and a time to live
                zk.writeControl(
                        zk.control.withRequest(to, "r" + (++requests), wall(), Duration.ofNanos(2 * cfg.poll())));
                trace("operator: failover --to " + (to.isEmpty() ? "(next)" : to));
            }
            case CRASH_LEADER_ON_MOVE -> {
                crashLeaderOnMove = true;
                crashLeaderRestart = f.duration();
            }
        }
    }

    private void cut(Fault f, SimHost h, boolean on) {
        int d = on ? 1 : -1;
        boolean zkIn =
                f.kind() == Fault.Kind.CUT_ZK || f.kind() == Fault.Kind.CUT_ZK_IN || f.kind() == Fault.Kind.CUT_ALL;
        boolean zkOut =
                f.kind() == Fault.Kind.CUT_ZK || f.kind() == Fault.Kind.CUT_ZK_OUT || f.kind() == Fault.Kind.CUT_ALL;
        boolean ssh = f.kind() == Fault.Kind.CUT_SSH || f.kind() == Fault.Kind.CUT_ALL;
        if (zkIn) {
            h.zkInCuts += d;
        }
        if (zkOut) {
            h.zkOutCuts += d;
        }
        if (ssh) {
            h.sshCuts += d;
        }
        h.zkIn = h.zkInCuts == 0;
        h.zkOut = h.zkOutCuts == 0;
        if (!on) {
            trace("HEAL " + f);
        }
        SimAgent a = agents.get(h.name);
        if (a != null) {
            a.netChanged();
        }
        if (on) {
            after(f.duration(), "heal " + f, () -> cut(f, h, false));
        }
    }

    private void freeze(SimAgent a, long duration) {
        if (a == null || !a.alive()) {
            return;
        }
        a.freeze();
        after(duration, "thaw " + a.name(), a::thaw);
    }

    ControlRecord control() {
        return zk.control;
    }

    private String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("assignment ")
                .append(SimZk.describe(zk.scheduler))
                .append(", epoch ")
                .append(zk.epochVersion);
        for (SimHost h : hosts.values()) {
            sb.append(", ").append(h.name).append(": ").append(h.alive().size()).append(" running");
        }
        return sb.toString();
    }
}
