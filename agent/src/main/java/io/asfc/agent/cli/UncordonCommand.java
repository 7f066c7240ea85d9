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
        name = "uncordon",
        description = {
            "Give a cordoned NODE back to rotation.",
            "Give a cordoned NODE back to rotation: the ACTIVE controller may choose it again to run the",
            "scheduler. It does not move the scheduler back by itself ('failover --to NODE' does).",
            "Recorded as a node-uncordoned event with who asked.",
            "Exits 0 once the controller has removed the cordon (or there was none), 1 when no ACTIVE",
            "controller answered within 2 x controller.poll-interval (the request is then withdrawn), 69",
            "when ZooKeeper cannot be reached."
        })
final class UncordonCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NODE", description = "The node to give back (a node id of asfc.nodes).")
    private String node;

    @Override
    public Integer call() throws InterruptedException {
        return CordonCommand.run(
                cli.settings(), ControlRecord.UNCORDON, node, spec.commandLine().getOut());
    }
}
