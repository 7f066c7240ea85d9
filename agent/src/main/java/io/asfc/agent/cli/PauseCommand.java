package io.asfc.agent.cli;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.events.EventLog;
import io.asfc.common.config.AsfcSettings;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "pause",
        description = {
            "Pause the cluster for maintenance, until 'resume'.",
            "No agent starts or stops a scheduler, and the ACTIVE controller moves nothing.",
            "A running scheduler keeps running."
        })
final class PauseCommand implements Callable<Integer> {
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
        return setPaused(cli.settings(), true, spec);
    }

    static int setPaused(AsfcSettings settings, boolean paused, CommandSpec spec) {
        try (ZkConnection zk = ZkConnection.open(settings)) {
            ControlWriter.update(zk.client(), zk.paths(), c -> c.withPaused(paused));
            try (EventLog events = new EventLog(
                    zk.client(),
                    zk.paths(),
                    settings.nodeId(),
                    settings.controller().eventsRetain(),
                    Clock.systemUTC())) {
                events.start();
                events.record(
                        paused ? "paused" : "resumed",
                        "by " + System.getProperty("user.name") + " on " + settings.nodeId());
            } // close() writes it before the connection closes
        }
        spec.commandLine()
                .getOut()
                .println(
                        paused
                                ? "paused: no agent starts or stops a scheduler until 'asfc-agent resume'"
                                : "resumed: the agents keep the scheduler running again");
        return ExitCode.OK.code();
    }
}
