package io.asfc.agent.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Where schedules come from: drawn from a seed ({@link #configFor}, {@link #random}), written by
 * hand (the regression set in SimulationTest), and shrunk ({@link #shrink}). A schedule names hosts
 * by role where the role matters: {@code holder} (the node the scheduler is assigned to, or leaving,
 * when the fault hits), {@code leader} (the ACTIVE agent's host), {@code standby} (an agent host that
 * is neither), or {@code *} (every host, for SLOW_EXIT and SLOW_START).
 */
final class Schedules {
    private static final Fault.Kind[] KINDS = {
        Fault.Kind.CUT_ZK,
        Fault.Kind.CUT_ZK,
        Fault.Kind.CUT_ZK_IN,
        Fault.Kind.CUT_ZK_OUT,
        Fault.Kind.CUT_SSH,
        Fault.Kind.CUT_ALL,
        Fault.Kind.CUT_ALL,
        Fault.Kind.FREEZE_AGENT,
        Fault.Kind.FREEZE_AGENT,
        Fault.Kind.FREEZE_LEADER,
        Fault.Kind.CRASH_AGENT,
        Fault.Kind.KILL_SCHEDULER,
        Fault.Kind.SSH_REFUSE,
        Fault.Kind.SSH_HANG,
        Fault.Kind.SSH_SLOW,
        Fault.Kind.SLOW_EXIT,
        Fault.Kind.FAILOVER,
        Fault.Kind.FAILOVER,
        Fault.Kind.CRASH_LEADER_ON_MOVE
    };

    private Schedules() {}

    /** The config a seed runs with: the shipped defaults or the proving ground's timings, a third with agentless x. */
    static SimConfig configFor(long seed) {
        Random r = new Random(seed ^ 0x5DEECE66DL);
        SimConfig cfg = r.nextBoolean() ? SimConfig.defaults() : SimConfig.provingGround();
        return r.nextInt(3) == 0 ? cfg.withAgentless() : cfg;
    }

    /** One to four faults after the warm-up, on the hosts and roles of the config, drawn from the seed. */
    static List<Fault> random(long seed, SimConfig cfg) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + 17);
        int n = 1 + r.nextInt(4);
        long t = cfg.session();
        long window = 3 * t + cfg.takeoverGrace();
        List<Fault> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Fault.Kind kind = KINDS[r.nextInt(KINDS.length)];
            long at = Simulation.WARMUP + (long) (r.nextDouble() * window);
            long duration =
                    switch (r.nextInt(4)) {
                        case 0 -> (long) (r.nextDouble() * t / 2); // a blip
                        case 1 -> t
                                + (long) (r.nextDouble() * (cfg.takeoverGrace() + 3 * SimConfig.S)); // around expiry
                        case 2 -> (long) (r.nextDouble() * 2 * t);
                        default -> 2 * t + (long) (r.nextDouble() * 2 * t); // long
                    };
            String host = host(r, cfg, kind);
            String arg = null;
            switch (kind) {
                case FAILOVER -> arg = r.nextInt(3) == 0
                        ? "-"
                        : cfg.nodes().get(r.nextInt(cfg.nodes().size()));
                case SSH_SLOW -> arg = Long.toString(500 + r.nextInt(5000));
                case SLOW_EXIT -> arg = Long.toString(r.nextInt(8001));
                case CRASH_AGENT, CRASH_LEADER_ON_MOVE -> duration = r.nextInt(4) == 0 ? 0 : duration;
                case KILL_SCHEDULER -> duration = 0;
                default -> {}
            }
            if (kind == Fault.Kind.FAILOVER) {
                duration = 0;
            }
            out.add(new Fault(
                    at / SimConfig.MS * SimConfig.MS, kind, host, duration / SimConfig.MS * SimConfig.MS, arg));
        }
        out.sort((x, y) -> Long.compare(x.at(), y.at()));
        return out;
    }

    private static String host(Random r, SimConfig cfg, Fault.Kind kind) {
        List<String> agentHosts =
                cfg.nodes().stream().filter(h -> !cfg.agentless().contains(h)).toList();
        boolean agentFault =
                switch (kind) {
                    case FREEZE_AGENT, CRASH_AGENT, CUT_ZK, CUT_ZK_IN, CUT_ZK_OUT -> true;
                    default -> false;
                };
        int pick = r.nextInt(4);
        if (pick == 0) {
            return "holder";
        }
        if (pick == 1 && kind != Fault.Kind.FAILOVER) {
            return "leader";
        }
        List<String> pool = agentFault ? agentHosts : cfg.nodes();
        return pool.get(r.nextInt(pool.size()));
    }

    /** Drops faults one at a time while the run still fails; returns the smallest failing schedule found. */
    static List<Fault> shrink(SimConfig cfg, long seed, List<Fault> failing) {
        List<Fault> current = new ArrayList<>(failing);
        boolean progress = true;
        while (progress && current.size() > 1) {
            progress = false;
            for (int i = 0; i < current.size(); i++) {
                List<Fault> fewer = new ArrayList<>(current);
                fewer.remove(i);
                if (!Simulation.run(cfg, seed, fewer, false).ok()) {
                    current = fewer;
                    progress = true;
                    break;
                }
            }
        }
        return current;
    }
}
