package io.asfc.agent.cli;

import io.asfc.agent.Agent;
import io.asfc.agent.logging.NodeConverter;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import picocli.CommandLine;
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

    @Option(
            names = "--give-up-after",
            paramLabel = "DURATION",
            hidden = true,
            converter = DurationConverter.class,
            description = "Exit 69 when ZooKeeper stays unreachable this long at start (e.g. 30s); default: never.")
    private Duration giveUpAfter;

    @Override
    public Integer call() throws InterruptedException {
        AsfcSettings settings = cli.agentSettings();
        MDC.put(Threads.MDC_NODE, settings.nodeId());
        NodeConverter.setProcessNode(settings.nodeId()); // for threads asfc does not create
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
        if (agent.start(Optional.ofNullable(giveUpAfter))) {
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

    /** Whole seconds, as bin/asfc-agent passes ASFC_START_TIMEOUT: {@code 30s}, or {@code 30}. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String seconds = value.endsWith("s") ? value.substring(0, value.length() - 1) : value;
            return Duration.ofSeconds(Long.parseLong(seconds));
        }
    }
}
