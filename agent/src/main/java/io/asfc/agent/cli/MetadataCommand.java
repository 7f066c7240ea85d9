package io.asfc.agent.cli;

import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterSnapshot;
import io.asfc.agent.events.EventLog;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "metadata",
        description = {
            "Show the cluster state kept in ZooKeeper.",
            "It lists the ACTIVE controller, the epoch, where the scheduler is assigned, the last failover,",
            "the last operator request and its answer, quarantined, on-trial and cordoned nodes, and every",
            "live agent with its heartbeat."
        })
final class MetadataCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final String ROW = "%-16s %-20s %-8s %-8s %-22s %6s %s%n";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    /** The events of a completed move, whatever its cause: a lost agent, an operator, a quarantine, a drain. */
    private static final Set<String> FAILOVER_EVENTS = Set.of("failover", "scheduler-moved");

    @Option(names = "--json", description = "Print JSON instead of text.")
    private boolean json;

    @Override
    public Integer call() {
        AsfcSettings settings = cli.settings();
        ClusterSnapshot s;
        Optional<EventLog.Stored> lastFailover;
        try (ZkConnection zk = ZkConnection.open(settings)) {
            s = new ClusterReader(zk.client(), zk.paths(), settings.cluster(), Clock.systemUTC()).read();
            if (json) {
                lastFailover = Optional.empty();
            } else {
                EventLog log =
                        new EventLog(zk.client(), zk.paths(), settings.nodeId(), Integer.MAX_VALUE, Clock.systemUTC());
                lastFailover = ZkException.call(zk.paths().events(), () -> log.newest(FAILOVER_EVENTS));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(s));
            return ExitCode.OK.code();
        }
        out.printf("%-20s %s (%s)%n", "cluster", s.cluster(), s.path());
        out.printf("%-20s %s%n", "current time", s.now());
        out.printf(
                "%-20s %s%n",
                "active controller",
                s.active() == null
                        ? "none"
                        : s.active().node() + " (epoch " + s.active().epoch() + ", since "
                                + s.active().since() + ")");
        out.printf("%-20s %d%n", "epoch", s.epoch());
        out.printf(
                "%-20s %s%n",
                "scheduler",
                s.scheduler() == null
                        ? "not assigned"
                        : (s.scheduler().node() == null
                                        ? "nobody (moving)"
                                        : s.scheduler().node()) + " (epoch "
                                + s.scheduler().epoch() + ", assigned "
                                + s.scheduler().assignedAt() + ", "
                                + s.scheduler().reason() + ")");
        out.printf(
                "%-20s %s%n",
                "paused",
                s.control() != null && s.control().paused() ? "YES: no agent starts or stops a scheduler" : "no");
        out.printf(
                "%-20s %s%n",
                "last failover",
                lastFailover
                        .map(e -> e.event().at() + " " + e.event().type() + " ("
                                + e.event().node() + "): " + e.event().detail())
                        .orElse("none in the event log"));
        if (s.control() != null && s.control().result() != null) {
            ControlRecord c = s.control();
            out.printf(
                    "%-20s %s (%s)%n",
                    c.op() == null ? "last request" : "last " + c.op() + (c.opNode() == null ? "" : " " + c.opNode()),
                    c.result(),
                    c.resultAt());
        }
        for (NodeRecord node : s.nodes()) {
            if (node.quarantined()) {
                out.printf(
                        "%-20s %s: %s (since %s%s)%n",
                        "quarantined",
                        node.node(),
                        node.reason(),
                        node.at(),
                        node.until() == null
                                ? ""
                                : ", one attempt again at " + node.until() + ", quarantine " + node.quarantines()
                                        + " in a row");
            } else if (node.onTrial()) {
                out.printf(
                        "%-20s %s: quarantine lifted at %s for one attempt; one more failure quarantines it again%n",
                        "on trial", node.node(), node.liftedAt());
            }
            if (node.hasCordon()) {
                out.printf(
                        "%-20s %s: never chosen to run the scheduler (by %s since %s; 'uncordon %s' gives it back)%n",
                        "cordoned", node.node(), node.cordonedBy(), node.cordonedAt(), node.node());
            }
        }
        out.println();
        out.printf(ROW, "NODE", "HOST", "PID", "ROLE", "SCHEDULER", "SEQ", "LAST HEARTBEAT (AGE)");
        for (ClusterSnapshot.Agent a : s.agents()) {
            AgentRecord r = a.record();
            if (r == null) {
                out.printf(ROW, a.node(), "?", "?", "?", "(malformed znode)", "?", "");
                continue;
            }
            out.printf(
                    ROW,
                    r.node(),
                    r.host(),
                    r.pid(),
                    r.role(),
                    scheduler(r.scheduler()),
                    r.heartbeat().seq(),
                    r.heartbeat().at() + " (" + age(a.modifiedAt(), s.now()) + ")");
        }
        if (s.agents().isEmpty()) {
            out.println("(no live agents)");
        }
        return ExitCode.OK.code();
    }

    private static String scheduler(AgentRecord.SchedulerState st) {
        if (!st.running()) {
            return "stopped" + (st.failures() > 0 ? ", " + st.failures() + " failures" : "");
        }
        return "running pid " + st.pid() + (st.healthy() ? "" : " UNHEALTHY");
    }

    /** Age by ZooKeeper's modification time: one clock for every agent; for display only. */
    private static String age(Instant modified, Instant now) {
        long ms = Math.max(0, Duration.between(modified, now).toMillis());
        return ms < 10_000 ? ms + "ms" : ms / 1000 + "s";
    }
}
