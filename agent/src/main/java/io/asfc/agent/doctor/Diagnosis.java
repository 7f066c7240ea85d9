package io.asfc.agent.doctor;

import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.cluster.Znode;
import io.asfc.agent.doctor.DoctorReport.ActiveView;
import io.asfc.agent.doctor.DoctorReport.NodeView;
import io.asfc.agent.doctor.DoctorReport.S4View;
import io.asfc.agent.doctor.DoctorReport.SchedulerView;
import io.asfc.agent.doctor.DoctorReport.ZooKeeperView;
import io.asfc.agent.doctor.Finding.Severity;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what {@code doctor} found ({@link DoctorFacts}) into findings and a verdict: healthy,
 * degraded (the scheduler runs, but something needs an operator) or down (no scheduler is known to
 * run, or ZooKeeper cannot be reached). Pure: no I/O, no clock.
 */
public final class Diagnosis {
    private Diagnosis() {}

    public static DoctorReport of(DoctorFacts f) {
        List<Finding> findings = new ArrayList<>();
        DoctorFacts.ZooKeeper zk = f.zookeeper();
        ZooKeeperView zkView = new ZooKeeperView(
                zk.connect(),
                zk.reachable(),
                zk.latency() == null ? null : zk.latency().toMillis(),
                zk.error());
        S4View s4 = new S4View(
                f.config().s4Problem().isEmpty(), f.config().s4Problem().orElse(null));
        f.config().s4Problem().ifPresent(p -> findings.add(Finding.degraded(null, "s4-budget", p)));
        if (!zk.reachable()) {
            findings.add(0, Finding.down(null, "zookeeper", zk.error()));
            List<NodeView> nodes = f.config().nodes().stream()
                    .map(n -> new NodeView(
                            n,
                            Severity.DOWN,
                            "unknown",
                            null,
                            null,
                            null,
                            null,
                            null,
                            null,
                            false,
                            false,
                            NodeDiagnosis.ssh(f, n)))
                    .toList();
            return report(f, zkView, null, null, false, s4, nodes, findings);
        }
        ClusterZnodes z = f.znodes();
        garbage(f, findings);
        ActiveView active = active(f, findings);
        SchedulerView scheduler = scheduler(f, findings);
        boolean paused = z.control().present() && z.control().value().paused();
        if (paused) {
            findings.add(Finding.degraded(
                    null, "paused", "the cluster is paused: no agent starts or stops a scheduler ('resume' ends it)"));
        }
        requests(f, findings);
        List<NodeView> nodes = new ArrayList<>();
        for (String node : f.config().nodes()) {
            nodes.add(NodeDiagnosis.of(f, node, findings));
        }
        for (String node : z.agents().keySet()) {
            if (!f.config().nodes().contains(node)) {
                findings.add(Finding.degraded(
                        node,
                        "unknown-node",
                        "agents/" + node + " is a live agent, but " + node
                                + " is not in this config's asfc.nodes: is doctor reading the cluster's config?"));
            }
        }
        return report(f, zkView, active, scheduler, paused, s4, nodes, findings);
    }

    private static DoctorReport report(
            DoctorFacts f,
            ZooKeeperView zk,
            ActiveView active,
            SchedulerView scheduler,
            boolean paused,
            S4View s4,
            List<NodeView> nodes,
            List<Finding> findings) {
        Severity status = Severity.HEALTHY;
        for (Finding finding : findings) {
            status = status.worse(finding.severity());
        }
        return new DoctorReport(
                DoctorReport.SCHEMA_VERSION,
                status,
                status.exitCode(),
                f.cluster(),
                f.path(),
                f.checkedAt(),
                zk,
                active,
                scheduler,
                paused,
                s4,
                List.copyOf(nodes),
                List.copyOf(findings));
    }

    /** Garbage in any znode: it is ignored (S5), so what it should say is missing. */
    private static void garbage(DoctorFacts f, List<Finding> findings) {
        ClusterZnodes z = f.znodes();
        Map<String, Znode<?>> all = new LinkedHashMap<>();
        all.put("active", f.active());
        all.put("scheduler", z.assignment());
        all.put("control", z.control());
        z.agents().forEach((node, znode) -> all.put("agents/" + node, znode));
        z.nodes().forEach((node, znode) -> all.put("nodes/" + node, znode));
        all.forEach((name, znode) -> {
            if (znode.state() == Znode.State.MALFORMED) {
                String node = name.contains("/") ? name.substring(name.indexOf('/') + 1) : null;
                findings.add(Finding.degraded(
                        node,
                        "garbage",
                        f.path() + "/" + name + " holds malformed data, which every agent ignores"
                                + (name.equals("scheduler") || name.equals("active")
                                        ? " (the leader rewrites it)"
                                        : "; fix or delete it with zkCli")));
            }
        });
    }

    private static ActiveView active(DoctorFacts f, List<Finding> findings) {
        Znode<ActiveRecord> znode = f.active();
        List<String> claiming = f.znodes().agents().values().stream()
                .filter(Znode::present)
                .map(Znode::value)
                .filter(a -> a.role() == AgentRecord.Role.ACTIVE)
                .map(AgentRecord::node)
                .toList();
        if (!znode.present()) {
            findings.add(Finding.degraded(
                    null,
                    "active",
                    "no ACTIVE controller"
                            + (claiming.isEmpty() ? "" : " in the active znode, though " + claiming + " report ACTIVE")
                            + ": nothing fails over or stops a stray scheduler until an agent is elected"));
            return new ActiveView(null, null, false);
        }
        ActiveRecord a = znode.value();
        List<String> problems = new ArrayList<>();
        if (a.epoch() != f.epoch()) {
            problems.add("the active znode says epoch " + a.epoch() + " but the epoch znode is at " + f.epoch());
        }
        if (!claiming.equals(List.of(a.node()))) {
            problems.add(
                    claiming.isEmpty()
                            ? "no live agent reports the ACTIVE role"
                            : "the agents reporting the ACTIVE role are " + claiming);
        }
        if (!problems.isEmpty()) {
            findings.add(Finding.degraded(
                    a.node(),
                    "active",
                    "ACTIVE is " + a.node() + ", but " + String.join("; ", problems)
                            + " (normal for a moment during an election)"));
        }
        return new ActiveView(a.node(), a.epoch(), problems.isEmpty());
    }

    private static SchedulerView scheduler(DoctorFacts f, List<Finding> findings) {
        Znode<Assignment> znode = f.znodes().assignment();
        if (!znode.present()) {
            findings.add(Finding.down(
                    null,
                    "scheduler",
                    "the scheduler is assigned to no node ("
                            + (znode.absent() ? "no scheduler znode" : "its znode is unreadable")
                            + "): no scheduler runs until the ACTIVE controller assigns one"));
            return new SchedulerView(null, null, null, null, null, null);
        }
        Assignment a = znode.value();
        if (a.node() == null) {
            findings.add(Finding.down(
                    a.movingFrom(),
                    "scheduler",
                    "the scheduler is moving"
                            + (a.movingFrom() == null ? "" : " from " + a.movingFrom())
                            + (a.movingTo() == null ? "" : " to " + a.movingTo())
                            + ": no node may run it until the move completes"));
            return new SchedulerView(null, a.epoch(), a.movingFrom(), null, null, null);
        }
        String node = a.node();
        if (f.config().agentless().contains(node)) {
            return new SchedulerView(node, a.epoch(), null, null, null, null);
        }
        Znode<AgentRecord> agent = f.znodes().agents().get(node);
        if (agent == null || !agent.present()) {
            findings.add(Finding.down(
                    node,
                    "scheduler",
                    "the scheduler is assigned to " + node + ", which has "
                            + (agent == null ? "no live agent" : "an unreadable agent znode")
                            + ": nobody reports it running; the leader moves it after the session timeout"
                            + " and takeover-grace"));
            return new SchedulerView(node, a.epoch(), null, null, null, null);
        }
        AgentRecord.SchedulerState s = agent.value().scheduler();
        boolean starting = Boolean.TRUE.equals(s.starting());
        if (!s.running()) {
            findings.add(
                    starting
                            ? Finding.degraded(node, "scheduler", "the scheduler is starting on " + node)
                            : Finding.down(
                                    node,
                                    "scheduler",
                                    "the scheduler is assigned to " + node + ", but its agent reports it not running"
                                            + (s.failures() > 0 ? " (" + s.failures() + " failures in a row)" : "")));
        } else if (!s.healthy()) {
            findings.add(Finding.degraded(
                    node,
                    "scheduler",
                    "the scheduler runs on " + node + " (pid " + s.pid() + ") but fails its health check"));
        }
        return new SchedulerView(node, a.epoch(), null, s.running(), s.healthy(), starting);
    }

    /** A request that no controller answered in time: no leader is acting on requests. */
    private static void requests(DoctorFacts f, List<Finding> findings) {
        Znode<ControlRecord> znode = f.znodes().control();
        if (!znode.present() || !znode.value().pending()) {
            return;
        }
        ControlRecord c = znode.value();
        long now = f.checkedAt().toEpochMilli();
        String what = (c.op() != null
                        ? c.op() + (c.opNode() == null ? "" : " " + c.opNode())
                        : "failover"
                                + (c.failoverTo() == null || c.failoverTo().isEmpty() ? "" : " to " + c.failoverTo()))
                + " (id " + c.requestId() + (c.requestedBy() == null ? "" : ", by " + c.requestedBy())
                + ", filed " + c.requestedAt() + ")";
        if (c.expiredAt(now)) {
            findings.add(Finding.degraded(
                    c.opNode(),
                    "request",
                    "stale request: " + what + " expired after " + c.ttlMillis()
                            + "ms without an answer; no controller took it, and none will act on it"));
        } else if (c.ttlMillis() == null
                && c.requestedAt() != null
                && now - c.requestedAt().toEpochMilli()
                        > f.config().pollInterval().multipliedBy(2).toMillis()) {
            findings.add(Finding.degraded(
                    c.opNode(),
                    "request",
                    "stale request: " + what + " has waited longer than 2 x controller.poll-interval; a"
                            + " controller will still act on it when one takes it"));
        }
    }
}
