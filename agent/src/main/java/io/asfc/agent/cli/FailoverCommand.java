package io.asfc.agent.cli;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "failover",
        description = {
            "Move the scheduler gracefully to another node.",
            "The ACTIVE controller stops it on its node, waits until that node reports it stopped, then",
            "assigns the new node. Without --to, the next eligible node in asfc.nodes order. Waits and",
            "shows progress until it runs on the new node.",
            "Exits 1 when the request is refused, or when the node named with --to stopped being",
            "eligible during the move and the scheduler went to another node instead. A request no",
            "controller takes within --ttl is withdrawn (exit 1) and never acted on later."
        })
final class FailoverCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final long POLL_MS = 200;

    /** How long the new scheduler must keep the same pid before the move counts as done. */
    private static final Duration STABLE = Duration.ofSeconds(2);

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Option(names = "--to", paramLabel = "NODE", description = "The node to move the scheduler to.")
    private String to;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "120",
            description = "How long to wait for the move (default ${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Option(names = "--no-wait", description = "Only file the request.")
    private boolean noWait;

    @Option(
            names = "--ttl",
            paramLabel = "SECONDS",
            description = "How long the request waits for a controller to take it; after that it is"
                    + " withdrawn and never acted on (default: 2 x controller.poll-interval, at least 10 s).")
    private Long ttlSeconds;

    @Override
    public Integer call() throws InterruptedException {
        AsfcSettings settings = cli.settings();
        PrintWriter out = spec.commandLine().getOut();
        try (ZkConnection zk = ZkConnection.open(settings)) {
            Znode<Assignment> assignment = Znode.read(zk.client(), zk.paths().scheduler(), Assignment.class);
            String from = assignment.present() ? assignment.value().node() : null;
            if (to != null) {
                validate(settings, zk, from);
            }
            String id = UUID.randomUUID().toString();
            Duration ttl = ttl(settings);
            ControlWriter.update(
                    zk.client(),
                    zk.paths(),
                    c -> c.withRequest(
                            to == null ? "" : to, id, Clock.systemUTC().instant(), ttl));
            Znode<ActiveRecord> active = Znode.read(zk.client(), zk.paths().active(), ActiveRecord.class);
            out.println("requested a failover" + (from == null ? "" : " from " + from)
                    + (to == null ? " to the next eligible node" : " to " + to)
                    + (active.present()
                            ? "; the ACTIVE controller is " + active.value().node()
                            : "; there is no ACTIVE controller right now, the request waits for one"));
            if (noWait) {
                return ExitCode.OK.code();
            }
            return await(settings, zk, id, ttl, out);
        }
    }

    private Duration ttl(AsfcSettings settings) {
        if (ttlSeconds != null) {
            if (ttlSeconds < 1) {
                throw new CliFailure("--ttl must be at least 1 second");
            }
            return Duration.ofSeconds(ttlSeconds);
        }
        Duration twice = settings.controller().pollInterval().multipliedBy(2);
        return twice.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : twice;
    }

    private void validate(AsfcSettings settings, ZkConnection zk, String from) {
        if (!settings.nodes().isEmpty() && !settings.nodes().contains(to)) {
            throw new CliFailure("unknown node '" + to + "': asfc.nodes is " + settings.nodes());
        }
        if (to.equals(from)) {
            throw new CliFailure("the scheduler is already assigned to " + to);
        }
        Znode<NodeRecord> record = Znode.read(zk.client(), zk.paths().node(to), NodeRecord.class);
        if (record.present() && record.value().hasCordon()) {
            throw new CliFailure(
                    "'" + to + "' is cordoned (by " + record.value().cordonedBy() + " since "
                            + record.value().cordonedAt() + "): it never runs the scheduler; 'asfc-agent uncordon " + to
                            + "' gives it back");
        }
        if (settings.isAgentless(to)) {
            return; // the leader checks it over SSH
        }
        Znode<AgentRecord> agent = Znode.read(zk.client(), zk.paths().agent(to), AgentRecord.class);
        if (agent.absent()) {
            throw new CliFailure("'" + to + "' has no live agent, so it cannot run the scheduler");
        }
        boolean onTrial = record.present() && record.value().onTrial();
        if (agent.present()
                && !onTrial
                && agent.value().scheduler().failures() >= settings.scheduler().maxRestartsBeforeFailover()) {
            throw new CliFailure("'" + to + "' is not eligible: its scheduler failed "
                    + agent.value().scheduler().failures() + " times in a row");
        }
    }

    private int await(AsfcSettings settings, ZkConnection zk, String id, Duration ttl, PrintWriter out)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        long expires = System.nanoTime() + ttl.toNanos();
        String last = "";
        Long stablePid = null;
        long stableSince = 0;
        while (System.nanoTime() - deadline < 0) {
            Znode<ControlRecord> control = Znode.read(zk.client(), zk.paths().control(), ControlRecord.class);
            Znode<Assignment> assignment = Znode.read(zk.client(), zk.paths().scheduler(), Assignment.class);
            boolean ours = control.present() && id.equals(control.value().requestId());
            if (ours && control.value().result() == null && System.nanoTime() - expires > 0) {
                withdraw(zk, id, ttl); // throws if it was withdrawn; returns if a controller took it meanwhile
                continue;
            }
            if (ours && control.value().result() != null && !control.value().answered()) {
                last = progress(out, last, control.value().result());
            } else if (ours && control.value().result() != null) {
                String result = control.value().result();
                if (result.startsWith("refused") || result.startsWith("expired") || result.startsWith("withdrawn")) {
                    throw new CliFailure("the ACTIVE controller " + result);
                }
                if (to != null && result.startsWith("moved to ") && !result.equals("moved to " + to)) {
                    throw new CliFailure("the ACTIVE controller " + result + ", not to " + to);
                }
                String target = assignment.present() ? assignment.value().node() : null;
                if (target != null && settings.isAgentless(target)) {
                    out.println("the scheduler is assigned to agentless " + target
                            + "; the ACTIVE controller starts it there over SSH (see 'is-scheduler-running')");
                    return ExitCode.OK.code();
                }
                Znode<AgentRecord> agent = target == null
                        ? null
                        : Znode.read(zk.client(), zk.paths().agent(target), AgentRecord.class);
                Long pid = agent != null
                                && agent.present()
                                && agent.value().scheduler().running()
                        ? agent.value().scheduler().pid()
                        : null;
                if (pid == null || !pid.equals(stablePid)) {
                    stablePid = pid;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince >= STABLE.toNanos()) {
                    out.println("the scheduler runs on " + target + " (pid " + pid + ")");
                    return ExitCode.OK.code();
                }
                last = progress(
                        out,
                        last,
                        pid == null
                                ? result + "; waiting for " + target + " to start it"
                                : target + " started it (pid " + pid + "); checking that it stays up");
            } else if (assignment.present() && assignment.value().node() == null) {
                last = progress(out, last, assignment.value().reason() + "; waiting for it to stop");
            } else {
                last = progress(out, last, "waiting for the ACTIVE controller to act");
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
        throw new CliFailure("the failover did not finish within "
                + Duration.ofSeconds(timeoutSeconds).toSeconds()
                + "s; see 'asfc-agent events' and 'asfc-agent metadata'");
    }

    /**
     * Withdraws the request, unless a controller took it meanwhile: the withdrawal and the leader's
     * "accepted" both change the control znode's version, so exactly one of them wins.
     */
    private static void withdraw(ZkConnection zk, String id, Duration ttl) {
        String text = "withdrawn: no ACTIVE controller took it within " + ttl.toSeconds() + "s";
        ControlRecord after = ControlWriter.update(
                zk.client(),
                zk.paths(),
                c -> id.equals(c.requestId()) && c.result() == null
                        ? c.withResult(text, Clock.systemUTC().instant())
                        : c);
        if (id.equals(after.requestId()) && text.equals(after.result())) {
            throw new CliFailure(
                    "no ACTIVE controller took the request within " + ttl.toSeconds() + "s; withdrawn, it will not run"
                            + " (see 'asfc-agent metadata': is a controller ACTIVE, is the cluster paused?)");
        }
    }

    private static String progress(PrintWriter out, String last, String now) {
        if (!Objects.equals(last, now)) {
            out.println("  " + now);
        }
        return now;
    }
}
