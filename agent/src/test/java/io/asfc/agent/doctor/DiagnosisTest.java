package io.asfc.agent.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.cluster.Znode;
import io.asfc.agent.doctor.Finding.Severity;
import io.asfc.common.ssh.SshException;
import io.asfc.common.ssh.SshPhases;
import io.asfc.common.ssh.SshPhases.Phase;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.Heartbeat;
import io.asfc.common.zk.AgentRecord.Role;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Diagnosis} as a table: a healthy cluster of a (ACTIVE, runs the scheduler) and b, one fault
 * at a time, and the verdict and finding each must give. No ZooKeeper, no SSH, no clock.
 */
class DiagnosisTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    /** The facts of a healthy cluster, to be changed one fault at a time. */
    private static final class Cluster {
        boolean zkReachable = true;
        Znode<ActiveRecord> active = present(new ActiveRecord("a", 3, NOW.minusSeconds(600)));
        long epoch = 3;
        Znode<Assignment> assignment =
                present(new Assignment("a", 3, NOW.minusSeconds(600), "initial", null, null, null));
        Znode<ControlRecord> control = new Znode<>(Znode.State.ABSENT, null, null);
        Map<String, Znode<AgentRecord>> agents = new HashMap<>(Map.of(
                "a", agent("a", Role.ACTIVE, running(), 0),
                "b", agent("b", Role.STANDBY, SchedulerState.STOPPED, 0)));
        Map<String, Znode<NodeRecord>> nodes = new HashMap<>();
        Map<String, SshPhases> ssh = new LinkedHashMap<>(Map.of("a", quick(), "b", quick()));
        Optional<String> s4Problem = Optional.empty();
        List<String> configured = List.of("a", "b");

        DoctorFacts facts() {
            DoctorFacts.Config config = new DoctorFacts.Config(
                    configured,
                    Set.of(),
                    s4Problem,
                    true,
                    COMMAND_TIMEOUT,
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(2));
            if (!zkReachable) {
                return new DoctorFacts(
                        "default",
                        "/airflow/failover/default",
                        NOW,
                        config,
                        new DoctorFacts.ZooKeeper("zk:2181", null, "cannot reach ZooKeeper at zk:2181 within 5000ms"),
                        null,
                        0,
                        null,
                        ssh);
            }
            return new DoctorFacts(
                    "default",
                    "/airflow/failover/default",
                    NOW,
                    config,
                    new DoctorFacts.ZooKeeper("zk:2181", Duration.ofMillis(2), null),
                    active,
                    epoch,
                    new ClusterZnodes(assignment, control, new TreeMap<>(agents), new TreeMap<>(nodes)),
                    ssh);
        }
    }

    private static <T> Znode<T> present(T value) {
        return new Znode<>(Znode.State.PRESENT, value, mtime(NOW));
    }

    private static <T> Znode<T> malformed() {
        return new Znode<>(Znode.State.MALFORMED, null, mtime(NOW));
    }

    private static Stat mtime(Instant at) {
        Stat stat = new Stat();
        stat.setMtime(at.toEpochMilli());
        return stat;
    }

    private static SchedulerState running() {
        return new SchedulerState(true, true, 42L, NOW.minusSeconds(600), 0, false, 7L);
    }

    /** An agent whose last heartbeat said {@code at = mtime + skewMillis}. */
    private static Znode<AgentRecord> agent(String node, Role role, SchedulerState s, long skewMillis) {
        Instant written = NOW.minusSeconds(5);
        AgentRecord r = new AgentRecord(
                node,
                node + ".example",
                100,
                "1.2.0",
                role,
                s,
                new Heartbeat(9, written.plusMillis(skewMillis)),
                NOW.minusSeconds(900));
        return new Znode<>(Znode.State.PRESENT, r, mtime(written));
    }

    private static SshPhases quick() {
        return new SshPhases(phases(1, 40, 5, 1), null, null);
    }

    private static Map<Phase, Duration> phases(long... millis) {
        Map<Phase, Duration> took = new LinkedHashMap<>();
        for (int i = 0; i < millis.length; i++) {
            took.put(Phase.values()[i], Duration.ofMillis(millis[i]));
        }
        return took;
    }

    private static Arguments row(
            String name, UnaryOperator<Cluster> fault, Severity status, String node, String check, String says) {
        return Arguments.of(name, fault, status, node, check, says);
    }

    static Stream<Arguments> faults() {
        List<Arguments> rows = new ArrayList<>();
        rows.add(row("healthy", c -> c, Severity.HEALTHY, null, null, null));
        rows.add(row(
                "ZooKeeper unreachable",
                c -> {
                    c.zkReachable = false;
                    return c;
                },
                Severity.DOWN,
                null,
                "zookeeper",
                "cannot reach ZooKeeper"));
        rows.add(row(
                "no ACTIVE",
                c -> {
                    c.active = new Znode<>(Znode.State.ABSENT, null, null);
                    c.agents.put("a", agent("a", Role.STANDBY, running(), 0));
                    return c;
                },
                Severity.DEGRADED,
                null,
                "active",
                "no ACTIVE controller"));
        rows.add(row(
                "two agents claim ACTIVE",
                c -> {
                    c.agents.put("b", agent("b", Role.ACTIVE, SchedulerState.STOPPED, 0));
                    return c;
                },
                Severity.DEGRADED,
                "a",
                "active",
                "the agents reporting the ACTIVE role are [a, b]"));
        rows.add(row(
                "active epoch behind the epoch znode",
                c -> {
                    c.epoch = 4;
                    return c;
                },
                Severity.DEGRADED,
                "a",
                "active",
                "epoch znode is at 4"));
        rows.add(row(
                "nothing assigned",
                c -> {
                    c.assignment = new Znode<>(Znode.State.ABSENT, null, null);
                    return c;
                },
                Severity.DOWN,
                null,
                "scheduler",
                "assigned to no node"));
        rows.add(row(
                "assignment garbage",
                c -> {
                    c.assignment = malformed();
                    return c;
                },
                Severity.DOWN,
                null,
                "scheduler",
                "unreadable"));
        rows.add(row(
                "a move under way",
                c -> {
                    c.assignment = present(new Assignment(null, 3, NOW, "operator", "a", "b", null));
                    return c;
                },
                Severity.DOWN,
                "a",
                "scheduler",
                "moving from a to b"));
        rows.add(row(
                "assigned node has no agent",
                c -> {
                    c.agents.remove("a");
                    c.active = present(new ActiveRecord("b", 3, NOW));
                    c.agents.put("b", agent("b", Role.ACTIVE, SchedulerState.STOPPED, 0));
                    return c;
                },
                Severity.DOWN,
                "a",
                "scheduler",
                "a, which has no live agent"));
        rows.add(row(
                "assigned node reports it stopped",
                c -> {
                    c.agents.put(
                            "a",
                            agent("a", Role.ACTIVE, new SchedulerState(false, false, null, null, 2, false, 7L), 0));
                    return c;
                },
                Severity.DOWN,
                "a",
                "scheduler",
                "reports it not running (2 failures in a row)"));
        rows.add(row(
                "scheduler starting",
                c -> {
                    c.agents.put(
                            "a", agent("a", Role.ACTIVE, new SchedulerState(false, false, null, null, 0, true, 7L), 0));
                    return c;
                },
                Severity.DEGRADED,
                "a",
                "scheduler",
                "starting on a"));
        rows.add(row(
                "scheduler unhealthy",
                c -> {
                    c.agents.put(
                            "a", agent("a", Role.ACTIVE, new SchedulerState(true, false, 42L, NOW, 0, false, 7L), 0));
                    return c;
                },
                Severity.DEGRADED,
                "a",
                "scheduler",
                "fails its health check"));
        rows.add(row(
                "paused",
                c -> {
                    c.control = present(ControlRecord.NONE.withPaused(true));
                    return c;
                },
                Severity.DEGRADED,
                null,
                "paused",
                "paused"));
        rows.add(row(
                "expired request nobody answered",
                c -> {
                    c.control = present(ControlRecord.NONE.withNodeRequest(
                            ControlRecord.CORDON, "b", "r1", NOW.minusSeconds(120), Duration.ofSeconds(60), "ops@h"));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "request",
                "stale request: cordon b (id r1, by ops@h"));
        rows.add(row(
                "fresh request waiting",
                c -> {
                    c.control = present(ControlRecord.NONE.withNodeRequest(
                            ControlRecord.CORDON, "b", "r1", NOW.minusSeconds(1), Duration.ofSeconds(60), "ops@h"));
                    return c;
                },
                Severity.HEALTHY,
                null,
                null,
                null));
        rows.add(row(
                "request without ttl waiting long",
                c -> {
                    c.control = present(ControlRecord.NONE.withRequest("b", "r2", NOW.minusSeconds(3600)));
                    return c;
                },
                Severity.DEGRADED,
                null,
                "request",
                "failover to b (id r2"));
        rows.add(row(
                "standby agent gone",
                c -> {
                    c.agents.remove("b");
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "agent",
                "b has no live agent"));
        rows.add(row(
                "garbage in an agent znode",
                c -> {
                    c.agents.put("b", malformed());
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "garbage",
                "/airflow/failover/default/agents/b holds malformed data"));
        rows.add(row(
                "garbage in control",
                c -> {
                    c.control = malformed();
                    return c;
                },
                Severity.DEGRADED,
                null,
                "garbage",
                "/airflow/failover/default/control holds malformed data"));
        rows.add(row(
                "garbage in a node record",
                c -> {
                    c.nodes.put("b", malformed());
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "garbage",
                "nodes/b holds malformed data"));
        rows.add(row(
                "clock ahead",
                c -> {
                    c.agents.put("b", agent("b", Role.STANDBY, SchedulerState.STOPPED, 5000));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "clock-skew",
                "b's clock is 5000ms ahead of ZooKeeper's"));
        rows.add(row(
                "clock behind",
                c -> {
                    c.agents.put("b", agent("b", Role.STANDBY, SchedulerState.STOPPED, -2500));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "clock-skew",
                "2500ms behind"));
        rows.add(row(
                "clock skew within bound",
                c -> {
                    c.agents.put("b", agent("b", Role.STANDBY, SchedulerState.STOPPED, 1500));
                    return c;
                },
                Severity.HEALTHY,
                null,
                null,
                null));
        rows.add(row(
                "quarantined",
                c -> {
                    c.nodes.put("b", present(new NodeRecord("b", true, 3, "3 failed starts", NOW.minusSeconds(10))));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "quarantine",
                "b is quarantined (3 failed starts"));
        rows.add(row(
                "cordoned",
                c -> {
                    c.nodes.put("b", present(NodeRecord.cordon("b", "ops@h", NOW.minusSeconds(10))));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "cordon",
                "b is cordoned by ops@h"));
        rows.add(row(
                "ssh refused",
                c -> {
                    c.ssh.put(
                            "b",
                            new SshPhases(
                                    phases(1),
                                    Phase.CONNECT,
                                    new SshException(SshException.Reason.CONNECTION_REFUSED, "refused")));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "ssh",
                "connect failed: refused"));
        rows.add(row(
                "slow remote shell",
                c -> {
                    c.ssh.put("b", new SshPhases(phases(1, 300, 6000, 2), null, null));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "ssh",
                "the remote shell start took 6000ms"));
        rows.add(row(
                "remote shell start timed out",
                c -> {
                    c.ssh.put(
                            "b",
                            new SshPhases(
                                    phases(1, 300, 10_000),
                                    Phase.SHELL_START,
                                    new SshException(SshException.Reason.TIMED_OUT, "timed out")));
                    return c;
                },
                Severity.DEGRADED,
                "b",
                "ssh",
                "the remote shell start timed out"));
        rows.add(row(
                "S4 budget broken",
                c -> {
                    c.s4Problem = Optional.of("the S4 budget does not hold: ...");
                    return c;
                },
                Severity.DEGRADED,
                null,
                "s4-budget",
                "the S4 budget does not hold"));
        rows.add(row(
                "an agent this config does not know",
                c -> {
                    c.agents.put("zz", agent("zz", Role.STANDBY, SchedulerState.STOPPED, 0));
                    return c;
                },
                Severity.DEGRADED,
                "zz",
                "unknown-node",
                "zz is not in this config's asfc.nodes"));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void eachFaultGivesItsVerdictAndNamesItsNodeAndCause(
            String name, UnaryOperator<Cluster> fault, Severity status, String node, String check, String says) {
        DoctorReport report = Diagnosis.of(fault.apply(new Cluster()).facts());

        assertEquals(status, report.status(), report.findings()::toString);
        assertEquals(status.exitCode(), report.exitCode());
        if (check == null) {
            assertEquals(List.of(), report.findings());
            return;
        }
        assertTrue(
                report.findings().stream()
                        .anyMatch(f -> f.severity() == status
                                && check.equals(f.check())
                                && java.util.Objects.equals(node, f.node())
                                && f.message().contains(says)),
                () -> "no " + status + " finding " + check + " for " + node + " saying '" + says + "' in "
                        + report.findings());
    }

    @org.junit.jupiter.api.Test
    void theNodeRowsCarryTheFactsAndTheWorstFindingOfTheirNode() {
        Cluster c = new Cluster();
        c.agents.put("b", agent("b", Role.STANDBY, SchedulerState.STOPPED, -40));
        c.ssh.put("b", new SshPhases(phases(1, 300, 6000, 2), null, null));
        DoctorReport report = Diagnosis.of(c.facts());

        DoctorReport.NodeView a = report.nodes().get(0);
        DoctorReport.NodeView b = report.nodes().get(1);
        assertEquals(Severity.HEALTHY, a.status());
        assertEquals("ACTIVE", a.role());
        assertEquals(Boolean.TRUE, a.schedulerRunning());
        assertEquals(0L, a.clockSkewMillis());
        assertEquals(Severity.DEGRADED, b.status());
        assertEquals(-40L, b.clockSkewMillis());
        assertEquals("1.2.0", b.version());
        assertEquals("shellStart", b.ssh().slowest());
        assertEquals(6000L, b.ssh().phasesMillis().get("shellStart"));
        assertNull(b.ssh().failedIn());
        assertTrue(report.active().agreed());
        assertEquals("a", report.scheduler().assignedTo());
    }
}
