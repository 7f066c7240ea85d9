package io.asfc.agent.cli;

import io.asfc.agent.Agent;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "run",
        description = {
            "Run the agent in the foreground until SIGTERM.",
            "bin/asfc-agent start and start-foreground use this."
        })
final class RunCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @ParentCommand
    private AsfcCli cli;

    @Option(
            names = "--ready-file",
            paramLabel = "FILE",
            hidden = true,
            description = "Created once the agent is up; removed when it stops.")
    private Path readyFile;

    @Override
    public Integer call() throws InterruptedException {
        AsfcSettings settings = cli.agentSettings();
        MDC.put(Threads.MDC_NODE, settings.nodeId());
        Agent agent = new Agent(settings, cli.dirs());
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            MDC.put(Threads.MDC_NODE, settings.nodeId());
                            LOG.info("shutdown requested");
                            agent.close();
                            deleteReadyFile();
                        },
                        "asfc-shutdown"));
        if (agent.start()) {
            writeReadyFile();
        }
        agent.awaitClosed();
        return ExitCode.OK.code();
    }

    private void writeReadyFile() {
        if (readyFile == null) {
            return;
        }
        try {
            Files.writeString(readyFile, ProcessHandle.current().pid() + "\n");
        } catch (IOException e) {
            LOG.warn("cannot write ready file {}; bin/asfc-agent start will wait for it", readyFile, e);
        }
    }

    private void deleteReadyFile() {
        if (readyFile == null) {
            return;
        }
        try {
            Files.deleteIfExists(readyFile);
        } catch (IOException e) {
            LOG.warn("cannot delete ready file {}", readyFile, e);
        }
    }
}
