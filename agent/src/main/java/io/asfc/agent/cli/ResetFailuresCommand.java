package io.asfc.agent.cli;

import io.asfc.common.zk.ControlRecord;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "reset-failures",
        description = {
            "Forget the failures of NODE, or of every node.",
            "Forget the failures of NODE, or of every node without NODE: its quarantine is lifted and",
            "its backoff starts again from controller.quarantine-backoff. A cordon is kept. An agent",
            "clears its own count only after a clean run, so the count it reports now is tolerated: one",
            "failure more quarantines the node again (for quarantine-backoff).",
            "Recorded as a failures-reset event with who asked.",
            "Exits 0 once the controller has reset them (or there was nothing to reset), 1 when no ACTIVE",
            "controller answered within 2 x controller.poll-interval (the request is then withdrawn), 69",
            "when ZooKeeper cannot be reached."
        })
final class ResetFailuresCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "NODE",
            description = "The node whose failures to forget (default: every node).")
    private String node;

    @Override
    public Integer call() throws InterruptedException {
        return CordonCommand.run(
                cli.settings(),
                ControlRecord.RESET_FAILURES,
                node,
                spec.commandLine().getOut());
    }
}
