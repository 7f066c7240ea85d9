package io.asfc.agent.sim;

import io.asfc.agent.cluster.Znode;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.zookeeper.data.Stat;

/**
 * The simulated ensemble, as one linearizable server: the znodes asfc uses, with a global zxid,
 * each znode's mzxid and version; ephemeral {@code agents/<node>} and latch nodes tied to sessions;
 * sessions that expire {@code session-timeout} after the server last heard from their client. Every
 * operation is atomic and takes no simulated time; who may call it (connected, with a live session,
 * over a link that works) is decided by {@link SimAgent#reach}.
 */
final class SimZk {
    /** A client session as the server sees it. */
    static final class Session {
        final long id;
        final String node;
        boolean expired;
        /** Since when the server has not heard from the client; null while it hears it. */
        Long silentSince;

        Session(long id, String node) {
            this.id = id;
            this.node = node;
        }
    }

    record Eph(AgentRecord record, long owner, long mzxid, int version) {}

    record Latch(String node, long session) {}

    private final Simulation sim;
    long zxid = 1;
    /** The scheduler znode: null and not malformed means absent. */
    Assignment scheduler;

    long schedulerMzxid;
    int schedulerVersion = -1;
    ControlRecord control = ControlRecord.NONE;
    int controlVersion;
    /** The epoch znode's version: the epoch. */
    int epochVersion;

    final Map<String, Eph> agents = new TreeMap<>();
    final TreeMap<Long, Latch> latches = new TreeMap<>();
    final Map<String, NodeRecord> quarantined = new TreeMap<>();
    final Map<Long, Session> sessions = new LinkedHashMap<>();
    private long nextSession = 0x100;
    private long nextLatch;

    SimZk(Simulation sim) {
        this.sim = sim;
    }

    Session newSession(String node) {
        Session s = new Session(nextSession++, node);
        sessions.put(s.id, s);
        sim.trace("zk: new session 0x" + Long.toHexString(s.id) + " for " + node);
        return s;
    }

    /** The server stops hearing the client at {@code since}: it expires the session at since + timeout. */
    void silent(Session s, long since) {
        if (s.expired || s.silentSince != null) {
            return;
        }
        s.silentSince = since;
        long at = Math.max(sim.now(), since + sim.cfg.session());
        sim.at(at, "zk: session expiry check 0x" + Long.toHexString(s.id), () -> {
            if (!s.expired && s.silentSince != null && s.silentSince == since) {
                expire(s);
            }
        });
    }

    /** The server hears the client again (a ping, a request). */
    void heard(Session s) {
        if (!s.expired) {
            s.silentSince = null;
        }
    }

    void expire(Session s) {
        s.expired = true;
        sim.trace("zk: session 0x" + Long.toHexString(s.id) + " of " + s.node + " EXPIRED");
        boolean agentsChanged = agents.values().removeIf(e -> e.owner() == s.id);
        boolean latchChanged = latches.values().removeIf(l -> l.session() == s.id);
        if (agentsChanged) {
            zxid++;
            sim.changed("agents");
        }
        if (latchChanged) {
            zxid++;
            sim.latchChanged();
        }
    }

    long createLatch(String node, long session) {
        long seq = nextLatch++;
        latches.put(seq, new Latch(node, session));
        zxid++;
        sim.latchChanged();
        return seq;
    }

    /** The latch node that leads: the lowest sequence number. */
    Long leadingLatch() {
        return latches.isEmpty() ? null : latches.firstKey();
    }

    Znode<Assignment> schedulerZnode() {
        if (scheduler == null) {
            return new Znode<>(Znode.State.ABSENT, null, null);
        }
        return new Znode<>(Znode.State.PRESENT, scheduler, stat(schedulerMzxid, schedulerVersion, 0));
    }

    Znode<ControlRecord> controlZnode() {
        return new Znode<>(Znode.State.PRESENT, control, stat(1, controlVersion, 0));
    }

    Map<String, Znode<AgentRecord>> agentZnodes() {
        Map<String, Znode<AgentRecord>> out = new LinkedHashMap<>();
        agents.forEach((n, e) ->
                out.put(n, new Znode<>(Znode.State.PRESENT, e.record(), stat(e.mzxid(), e.version(), e.owner()))));
        return out;
    }

    void writeScheduler(Assignment a) {
        scheduler = a;
        schedulerMzxid = ++zxid;
        schedulerVersion++;
        sim.trace("zk: scheduler := " + describe(a) + " (mzxid " + schedulerMzxid + ")");
        sim.changed("scheduler");
    }

    void writeControl(ControlRecord c) {
        control = c;
        controlVersion++;
        zxid++;
        sim.changed("control");
    }

    void writeAgent(String node, AgentRecord r, long owner) {
        Eph old = agents.get(node);
        agents.put(node, new Eph(r, owner, ++zxid, old == null || old.owner() != owner ? 0 : old.version() + 1));
        sim.changed("agents");
    }

    List<String> latchOrder() {
        List<String> out = new ArrayList<>();
        latches.forEach((seq, l) -> out.add(l.node() + "#" + seq));
        return out;
    }

    static String describe(Assignment a) {
        if (a == null) {
            return "absent";
        }
        return a.node() != null
                ? a.node() + "@" + a.epoch()
                : "moving(" + a.movingFrom() + "->" + a.movingTo() + ")@" + a.epoch();
    }

    private static Stat stat(long mzxid, int version, long owner) {
        Stat stat = new Stat();
        stat.setMzxid(mzxid);
        stat.setVersion(version);
        stat.setEphemeralOwner(owner);
        return stat;
    }
}
