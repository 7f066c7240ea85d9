package io.asfc.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "get-current-host",
        aliases = "get_current_host",
        description = {
            "Print the node id this host uses in the cluster.",
            "That is asfc.node.id, by default the host name."
        })
final class GetCurrentHostCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println(cli.settings().nodeId());
        return ExitCode.OK.code();
    }
}
