package io.asfc.agent.cli;

import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "drain",
        description = {
            "Cordon NODE and move the scheduler off it.",
            "Prepare NODE for maintenance: cordon it (see 'cordon'), then, if the scheduler is assigned to",
            "it, move it to the next eligible node as 'failover' does: the ACTIVE controller unassigns",
            "NODE, waits until NODE reports its scheduler stopped (or stops it over SSH), and only then",
            "assigns the next node (the leave-rule, docs/SAFETY.md). Waits until the scheduler runs on",
            "another node, printing each step. NODE stays cordoned afterwards: 'uncordon NODE' gives it",
            "back. Refused, changing nothing, when no other node is eligible or the cluster is paused.",
            "Exits 0 when the scheduler runs elsewhere (or was not on NODE), 1 when the drain was refused,",
            "no ACTIVE controller took it within 2 x controller.poll-interval (withdrawn, never acted on",
            "later), or the scheduler did not run elsewhere within --timeout; 69 when ZooKeeper cannot",
            "be reached."
        })
final class DrainCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final long POLL_MS = 200;
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NODE", description = "The node to drain (a node id of asfc.nodes).")
    private String node;

    @Option(
            names = "--no-wait",
            description = "Return once the controller has cordoned NODE and begun the move, without waiting"
                    + " for the scheduler to run elsewhere.")
    private boolean noWait;

    @Option(
            names = "--timeout",
            paramLabel = "D",
            defaultValue = "120s",
            description = "How long to wait for the scheduler to run elsewhere, e.g. 90s, 5m; plain"
                    + " seconds also work (default ${DEFAULT-VALUE}).")
    private String timeout;

    @Override
    public Integer call() throws InterruptedException {
        AsfcSettings settings = cli.settings();
        Duration wait = parse(timeout);
        NodeRequestClient.checkKnown(settings, node);
        PrintWriter out = spec.commandLine().getOut();
        long deadline = System.nanoTime() + wait.toNanos();
        try (ZkConnection zk = ZkConnection.open(settings)) {
            String answer =
                    NodeRequestClient.fileAndAwait(zk, ControlRecord.DRAIN, node, NodeRequestClient.ttl(settings), out);
            out.println("  " + answer);
            if (noWait) {
                return ExitCode.OK.code();
            }
            return awaitElsewhere(settings, zk, deadline, wait, out);
        }
    }

    private int awaitElsewhere(AsfcSettings settings, ZkConnection zk, long deadline, Duration wait, PrintWriter out)
            throws InterruptedException {
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            Znode<Assignment> assignment = Znode.read(zk.client(), zk.paths().scheduler(), Assignment.class);
            Znode<AgentRecord> own = Znode.read(zk.client(), zk.paths().agent(node), AgentRecord.class);
            Assignment a = assignment.present() ? assignment.value() : null;
            boolean runsHere = own.present() && own.value().scheduler().running();
            boolean assignedHere = a != null && (node.equals(a.node()) || node.equals(a.movingFrom()));
            String now;
            if (runsHere || assignedHere) {
                now = a != null && a.node() == null
                        ? a.reason() + "; waiting for " + node + " to stop it"
                        : "waiting for the ACTIVE controller to move the scheduler off " + node;
            } else if (a == null || (a.node() == null && !a.isMoving())) {
                out.println("the scheduler is not on " + node + " (nothing is assigned)");
                return ExitCode.OK.code();
            } else if (a.node() == null) {
                now = a.reason() + "; waiting for the new node to be assigned";
            } else if (settings.isAgentless(a.node())) {
                out.println("the scheduler is assigned to agentless " + a.node()
                        + "; the ACTIVE controller starts it there over SSH (see 'is-scheduler-running')");
                return ExitCode.OK.code();
            } else {
                Znode<AgentRecord> there = Znode.read(zk.client(), zk.paths().agent(a.node()), AgentRecord.class);
                if (there.present() && there.value().scheduler().running()) {
                    out.println("the scheduler runs on " + a.node() + " (pid "
                            + there.value().scheduler().pid() + "); " + node + " is drained and stays cordoned");
                    return ExitCode.OK.code();
                }
                now = "assigned to " + a.node() + "; waiting for it to start the scheduler";
            }
            if (!Objects.equals(last, now)) {
                out.println("  " + now);
                last = now;
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
        throw new CliFailure("the scheduler did not run off " + node + " within " + wait.toSeconds() + "s; " + node
                + " stays cordoned (see 'asfc-agent events' and 'asfc-agent metadata')");
    }

    private Duration parse(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ParameterException(
                    spec.commandLine(), "--timeout: not a duration: '" + text + "' (e.g. 90s, 5m, 120)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
