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
        name = "unquarantine",
        description = {
            "Lift NODE's quarantine now, for one attempt.",
            "Lift NODE's quarantine now instead of at the end of its backoff: it may run the scheduler",
            "again at once, for one attempt. One more failure quarantines it again, for twice as long as",
            "the last time; a clean run (its agent clears its failure count after the scheduler ran for",
            "scheduler.start-timeout) forgets its failures. 'reset-failures NODE' also forgets the",
            "backoff. Fix the cause first: 'metadata' shows why it was quarantined, 'events' when.",
            "Also gives another chance to a node kept out only by its agent's failure count.",
            "Recorded as a node-unquarantined event with who asked.",
            "Exits 0 once the controller has lifted it (or it was not quarantined), 1 when no ACTIVE",
            "controller answered within 2 x controller.poll-interval (the request is then withdrawn), 69",
            "when ZooKeeper cannot be reached."
        })
final class UnquarantineCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NODE", description = "The quarantined node (a node id of asfc.nodes).")
    private String node;

    @Override
    public Integer call() throws InterruptedException {
        return CordonCommand.run(
                cli.settings(),
                ControlRecord.UNQUARANTINE,
                node,
                spec.commandLine().getOut());
    }
}
