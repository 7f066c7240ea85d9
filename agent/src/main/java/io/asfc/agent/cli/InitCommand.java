package io.asfc.agent.cli;

import io.asfc.common.net.Hostnames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "init",
        description = {
            "Write a starter asfc.conf with this host's name filled in.",
            "It never overwrites an existing file."
        })
final class InitCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    static final String TEMPLATE = "asfc.conf.template";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(
            arity = "0..1",
            paramLabel = "FILE",
            description = "Where to write it (default: the --conf file, i.e. conf/asfc.conf).")
    private Path target;

    @Override
    public Integer call() {
        Path file = target != null ? target : cli.confFile();
        String content = template().replace("@NODE_ID@", Hostnames.local());
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, content, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
        } catch (FileAlreadyExistsException e) {
            throw new CliFailure(file + " already exists; not overwriting it");
        } catch (IOException e) {
            throw new CliFailure("cannot write " + file + ": " + e.getMessage());
        }
        var out = spec.commandLine().getOut();
        out.println("wrote " + file);
        out.println("next: set asfc.nodes, asfc.zookeeper.connect and asfc.scheduler.start-command,"
                + " then run 'asfc-agent check-config --conf " + file + "'");
        return ExitCode.OK.code();
    }

    private static String template() {
        try (InputStream in = InitCommand.class.getResourceAsStream(TEMPLATE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled " + TEMPLATE + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled " + TEMPLATE, e);
        }
    }
}
