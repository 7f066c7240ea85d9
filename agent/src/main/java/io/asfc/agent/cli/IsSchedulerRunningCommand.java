package io.asfc.agent.cli;

import io.asfc.agent.AgentDirs;
import io.asfc.agent.supervisor.ChildRunner;
import io.asfc.agent.supervisor.LocalStatus;
import io.asfc.agent.supervisor.command.CommandRunner;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.Modes.SchedulerMode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "is-scheduler-running",
        aliases = "is_scheduler_running",
        mixinStandardHelpOptions = true,
        description = {
            "Tell whether the scheduler runs on this host, the way this host's agent checks it.",
            "Exit 0 when it runs, 1 when it does not."
        })
final class IsSchedulerRunningCommand implements Callable<Integer> {
    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        AsfcSettings settings = cli.settings();
        AgentDirs dirs = cli.dirs();
        LocalStatus status = settings.scheduler().mode() == SchedulerMode.CHILD
                ? ChildRunner.recorded(dirs.schedulerSession(settings.nodeId()))
                : CommandRunner.forChecking(settings.scheduler(), dirs.schedulerOutput(settings.nodeId()))
                        .status();
        if (status.running()) {
            spec.commandLine()
                    .getOut()
                    .println("running" + (status.pid() == null ? "" : " (pid " + status.pid() + ")")
                            + (status.since() == null ? "" : " since " + status.since()));
            return ExitCode.OK.code();
        }
        spec.commandLine().getOut().println("not running");
        return ExitCode.FAILURE.code();
    }
}
