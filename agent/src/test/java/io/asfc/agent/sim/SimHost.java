package io.asfc.agent.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * One simulated host: its scheduler processes, its links (to ZooKeeper each way, and SSH) and its
 * sshd. A process exists from the moment it is launched (a start-command still on its way counts)
 * until it exits: at once on SIGKILL, {@code exitDelay} after SIGTERM.
 */
final class SimHost {
    enum Sshd {
        OK,
        REFUSE,
        HANG
    }

    /** One scheduler process (with its tree). */
    static final class Proc {
        final int id;
        final SimHost host;
        final long launchedAt;
        final long exitDelay;
        /** Who started it: an agent incarnation (child mode: its watchdog's pipe), or null (over SSH). */
        final SimAgent owner;

        Long termAt;
        /** When it exits on the SIGTERM it got, unless killed first. */
        Long exitAt;

        Long exitedAt;
        /** The deadman: when the agent last renewed it (child mode only). */
        long lastRenewal;

        boolean watchdogFired;
        /** The watchdog stopped it because renewals stopped (not because the agent died). */
        boolean deadmanFired;
        /** Its agent froze while it ran, and has not renewed it since (or it is being stopped). */
        boolean agentFroze;
        /** Its agent died (kill -9) while it was being stopped: the agent's own SIGKILL never came. */
        boolean agentDiedWhileStopping;

        Proc(int id, SimHost host, long launchedAt, long exitDelay, SimAgent owner) {
            this.id = id;
            this.host = host;
            this.launchedAt = launchedAt;
            this.exitDelay = exitDelay;
            this.owner = owner;
            this.lastRenewal = launchedAt;
        }

        boolean alive() {
            return exitedAt == null;
        }

        @Override
        public String toString() {
            return "proc#" + id + "@" + host.name;
        }
    }

    final String name;
    final boolean agentless;
    final List<Proc> procs = new ArrayList<>();
    boolean zkIn = true;
    boolean zkOut = true;
    int zkInCuts;
    int zkOutCuts;
    int sshCuts;
    Sshd sshd = Sshd.OK;
    long sshExtra;
    Long exitDelayOverride;
    Long startDelayOverride;
    /** The fencing token in ~/.asfc/<cluster>/epoch: the newest epoch a stop or start recorded here. */
    long token;

    SimHost(String name, boolean agentless) {
        this.name = name;
        this.agentless = agentless;
    }

    List<Proc> alive() {
        List<Proc> out = new ArrayList<>();
        for (Proc p : procs) {
            if (p.alive()) {
                out.add(p);
            }
        }
        return out;
    }

    boolean zkUp() {
        return zkIn && zkOut;
    }
}
