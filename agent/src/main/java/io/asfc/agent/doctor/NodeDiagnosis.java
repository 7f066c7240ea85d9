package io.asfc.agent.doctor;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.doctor.DoctorReport.NodeView;
import io.asfc.agent.doctor.DoctorReport.SshView;
import io.asfc.agent.doctor.Finding.Severity;
import io.asfc.common.ssh.SshPhases;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.NodeRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checks of one configured node, part of {@link Diagnosis}: its agent, clock skew, quarantine,
 * cordon and SSH. Pure.
 */
final class NodeDiagnosis {
    private NodeDiagnosis() {}

    /** Checks one configured node; adds its findings to {@code findings} and returns its row. */
    static NodeView of(DoctorFacts f, String node, List<Finding> findings) {
        int before = findings.size();
        boolean agentless = f.config().agentless().contains(node);
        Znode<AgentRecord> agent = f.znodes().agents().get(node);
        String state;
        AgentRecord r = null;
        Long skew = null;
        if (agentless) {
            state = "agentless";
        } else if (agent == null) {
            state = "absent";
            findings.add(
                    Finding.degraded(node, "agent", node + " has no live agent: it cannot take the scheduler over"));
        } else if (!agent.present()) {
            state = "malformed"; // named by the garbage check
        } else {
            state = "present";
            r = agent.value();
            // at: the agent's clock when it built the record; mtime: the ensemble's clock for the same write
            skew = r.heartbeat().at().toEpochMilli() - agent.stat().getMtime();
            if (Math.abs(skew) > f.config().maxClockSkew().toMillis()) {
                findings.add(Finding.degraded(
                        node,
                        "clock-skew",
                        node + "'s clock is " + Math.abs(skew) + "ms " + (skew > 0 ? "ahead of" : "behind")
                                + " ZooKeeper's (more than "
                                + f.config().maxClockSkew().toMillis()
                                + "ms): quarantine ends and request expiries are judged by wall clocks; check NTP"));
            }
        }
        Znode<NodeRecord> nodeZnode = f.znodes().nodes().get(node);
        NodeRecord record = nodeZnode != null && nodeZnode.present() ? nodeZnode.value() : null;
        boolean quarantined = record != null && record.quarantined();
        boolean cordoned = record != null && record.hasCordon();
        if (quarantined) {
            findings.add(Finding.degraded(
                    node,
                    "quarantine",
                    node + " is quarantined (" + record.reason() + ", since " + record.at()
                            + (record.until() == null ? "" : ", one attempt again at " + record.until())
                            + "); 'unquarantine " + node + "' lifts it"));
        }
        if (cordoned) {
            findings.add(Finding.degraded(
                    node,
                    "cordon",
                    node + " is cordoned by " + record.cordonedBy() + " since " + record.cordonedAt()
                            + ": never chosen to run the scheduler ('uncordon " + node + "' gives it back)"));
        }
        SshPhases phases = f.ssh().get(node);
        if (phases != null) {
            String verdict = phases.verdict(f.config().commandTimeout());
            if (!phases.ok() || phases.slowShell(f.config().commandTimeout())) {
                findings.add(Finding.degraded(
                        node,
                        "ssh",
                        "ssh to " + node + ": " + verdict + " [" + phases.summary() + "]"
                                + (phases.slowShell(f.config().commandTimeout())
                                        ? ""
                                        : "; the ACTIVE controller cannot stop a stray scheduler there")));
            }
        }
        Severity status = Severity.HEALTHY;
        for (Finding finding : findings.subList(before, findings.size())) {
            status = status.worse(finding.severity());
        }
        for (Finding finding : findings.subList(0, before)) {
            if (node.equals(finding.node())) {
                status = status.worse(finding.severity());
            }
        }
        return new NodeView(
                node,
                status,
                state,
                r == null ? null : r.host(),
                r == null ? null : r.version(),
                r == null ? null : r.role().name(),
                r == null ? null : r.scheduler().running(),
                r == null ? null : r.heartbeat().at(),
                skew,
                quarantined,
                cordoned,
                ssh(f, node));
    }

    static SshView ssh(DoctorFacts f, String node) {
        SshPhases phases = f.ssh().get(node);
        if (phases == null) {
            return null;
        }
        Map<String, Long> millis = new LinkedHashMap<>();
        phases.took().forEach((phase, d) -> millis.put(name(phase), d.toMillis()));
        return new SshView(
                phases.ok(),
                millis,
                phases.failedIn() == null ? null : name(phases.failedIn()),
                name(phases.slowest()),
                phases.verdict(f.config().commandTimeout()));
    }

    /** The phase's name in {@code --json}. */
    static String name(SshPhases.Phase phase) {
        return switch (phase) {
            case CONNECT -> "connect";
            case AUTHENTICATE -> "authenticate";
            case SHELL_START -> "shellStart";
            case COMMAND -> "command";
        };
    }
}
