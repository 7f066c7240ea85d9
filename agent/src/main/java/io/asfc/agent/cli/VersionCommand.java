package io.asfc.agent.cli;

import io.asfc.agent.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "version", description = "Print the asfc version.")
final class VersionCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.println("asfc-agent " + Version.get());
        out.println("ZooKeeper client " + org.apache.zookeeper.Version.getFullVersion());
        out.println("Java " + Runtime.version());
        return ExitCode.OK.code();
    }
}
