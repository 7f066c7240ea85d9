package io.asfc.agent.cli;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.ControlRecord;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "cordon",
        description = {
            "Take NODE out of rotation until 'uncordon'.",
            "Take NODE out of rotation: the ACTIVE controller never chooses it to run the scheduler (no",
            "takeover, failover or first assignment goes there; 'failover --to NODE' is refused). If the",
            "scheduler runs on NODE it stays there: 'drain NODE' moves it away. The cordon is kept in",
            "ZooKeeper (nodes/NODE) until 'uncordon NODE', across agent and controller restarts, and shows",
            "in 'metadata' and /status. Recorded as a node-cordoned event with who asked.",
            "Exits 0 once the controller has cordoned the node (or it already was), 1 when no ACTIVE",
            "controller answered within 2 x controller.poll-interval (the request is then withdrawn), 69",
            "when ZooKeeper cannot be reached."
        })
final class CordonCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NODE", description = "The node to cordon (a node id of asfc.nodes).")
    private String node;

    @Override
    public Integer call() throws InterruptedException {
        return run(
                cli.settings(), ControlRecord.CORDON, node, spec.commandLine().getOut());
    }

    /** Files {@code op} for {@code node} (null: every node), prints the controller's answer, exit 0. */
    static int run(AsfcSettings settings, String op, String node, PrintWriter out) throws InterruptedException {
        if (node != null) {
            NodeRequestClient.checkKnown(settings, node);
        }
        try (ZkConnection zk = ZkConnection.open(settings)) {
            out.println(NodeRequestClient.fileAndAwait(zk, op, node, NodeRequestClient.ttl(settings), out));
        }
        return ExitCode.OK.code();
    }
}
