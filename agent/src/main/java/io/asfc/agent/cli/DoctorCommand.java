package io.asfc.agent.cli;

import io.asfc.agent.doctor.Diagnosis;
import io.asfc.agent.doctor.DoctorReport;
import io.asfc.agent.doctor.DoctorReport.NodeView;
import io.asfc.agent.doctor.FactGatherer;
import io.asfc.agent.doctor.Finding;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.Json;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "doctor",
        description = {
            "Tell whether the cluster is healthy, and if not, why.",
            "It checks: ZooKeeper reachable, and one round trip's latency; one ACTIVE controller that the active",
            "znode, the epoch and the agents agree on; the scheduler assigned and reported running by its node;",
            "for each node of asfc.nodes: a live agent, its version, its clock skew against ZooKeeper,",
            "quarantine and cordon, and SSH (when asfc.ssh.enabled) with each phase timed: connect,",
            "authenticate, remote shell start (the remote user's ~/.bashrc), command; the S4 budget of this",
            "config; requests in the control znode that no controller answered in time; garbage in any znode.",
            "Every finding names its node and cause. docs/RUNBOOK.md explains the output and the --json schema.",
            "Exit 0 healthy, 1 degraded (the scheduler runs, something needs an operator), 2 down (no scheduler",
            "is known to run, or ZooKeeper is unreachable), 78 bad config."
        })
final class DoctorCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final String ROW = "%-12s %-9s %-10s %-16s %-8s %-9s %-5s %-5s %s%n";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the report as JSON (schema in docs/RUNBOOK.md).")
    private boolean json;

    @Option(
            names = "--max-clock-skew-ms",
            paramLabel = "MS",
            defaultValue = "2000",
            description =
                    "An agent whose clock differs from ZooKeeper's by more is degraded (default: ${DEFAULT-VALUE}).")
    private long maxClockSkewMillis;

    @Override
    public Integer call() {
        if (maxClockSkewMillis < 0) {
            throw new CliFailure("--max-clock-skew-ms must not be negative");
        }
        AsfcSettings settings = cli.settings();
        DoctorReport report;
        try {
            report = Diagnosis.of(
                    new FactGatherer(settings, Clock.systemUTC(), Duration.ofMillis(maxClockSkewMillis)).gather());
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage()); // an SSH identity file that cannot be used
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(report));
        } else {
            print(report, out);
        }
        return report.exitCode();
    }

    private static void print(DoctorReport r, PrintWriter out) {
        out.printf("%-12s %s (%s)%n", "cluster", r.cluster(), r.path());
        out.printf("%-12s %s%n", "checked at", r.checkedAt());
        DoctorReport.ZooKeeperView zk = r.zookeeper();
        out.printf(
                "%-12s %s%n",
                "zookeeper",
                zk.reachable()
                        ? "reachable at " + zk.connect() + ", round trip " + zk.latencyMillis() + "ms"
                        : "UNREACHABLE at " + zk.connect());
        if (zk.reachable()) {
            DoctorReport.ActiveView a = r.active();
            out.printf(
                    "%-12s %s%n",
                    "active",
                    a.node() == null
                            ? "none"
                            : a.node() + " (epoch " + a.epoch() + ")" + (a.agreed() ? ", agreed" : ", NOT agreed"));
            DoctorReport.SchedulerView s = r.scheduler();
            out.printf("%-12s %s%n", "scheduler", scheduler(s));
            out.printf("%-12s %s%n", "paused", r.paused() ? "YES" : "no");
        }
        out.printf("%-12s %s%n", "s4 budget", r.s4Budget().holds() ? "holds" : "DOES NOT HOLD");
        out.println();
        out.printf(ROW, "NODE", "STATUS", "AGENT", "VERSION", "ROLE", "SKEW", "QUAR", "CORD", "SSH");
        for (NodeView n : r.nodes()) {
            out.printf(
                    ROW,
                    n.node(),
                    n.status().label(),
                    n.agent(),
                    dash(n.version()),
                    dash(n.role()),
                    n.clockSkewMillis() == null ? "-" : String.format("%+dms", n.clockSkewMillis()),
                    n.quarantined() ? "yes" : "no",
                    n.cordoned() ? "yes" : "no",
                    ssh(n.ssh()));
        }
        out.println();
        if (r.findings().isEmpty()) {
            out.println("healthy: no findings");
            return;
        }
        out.println(r.status().label().toUpperCase(java.util.Locale.ROOT) + ": "
                + r.findings().size() + " finding(s)");
        for (Finding f : r.findings()) {
            out.printf(
                    "  %-8s %-12s %-12s %s%n",
                    f.severity().label(), f.node() == null ? "-" : f.node(), f.check(), f.message());
        }
    }

    private static String scheduler(DoctorReport.SchedulerView s) {
        if (s.assignedTo() == null) {
            return s.movingFrom() != null ? "moving from " + s.movingFrom() : "not assigned";
        }
        String where = "on " + s.assignedTo() + " (epoch " + s.epoch() + ")";
        if (s.running() == null) {
            return where + ", not reported by an agent";
        }
        if (!s.running()) {
            return where + (Boolean.TRUE.equals(s.starting()) ? ", starting" : ", NOT running");
        }
        return where + ", running" + (s.healthy() ? ", healthy" : ", UNHEALTHY");
    }

    private static String ssh(DoctorReport.SshView ssh) {
        if (ssh == null) {
            return "-";
        }
        StringBuilder phases = new StringBuilder();
        ssh.phasesMillis().forEach((phase, ms) -> phases.append(phases.isEmpty() ? "" : " ")
                .append(phase)
                .append('=')
                .append(ms)
                .append("ms"));
        String state =
                ssh.ok() && ssh.verdict().equals("ok") ? "ok" : ssh.ok() ? "SLOW" : "FAILED in " + ssh.failedIn();
        return state + " (" + phases + "; slowest " + ssh.slowest() + ")";
    }

    private static String dash(String value) {
        return value == null ? "-" : value;
    }
}
