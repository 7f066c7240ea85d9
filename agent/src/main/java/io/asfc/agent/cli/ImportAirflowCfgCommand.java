package io.asfc.agent.cli;

import io.asfc.agent.migration.AirflowCfg;
import io.asfc.agent.migration.AirflowCfgImporter;
import io.asfc.common.net.Hostnames;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "import-airflow-cfg",
        description = {
            "Write an asfc.conf from an airflow.cfg's failover settings.",
            "It reads the Python failover controller's [scheduler_failover], [smtp] for the email alerts",
            "and [webserver] base_url for the health check.",
            "Every setting names the key it came from; keys asfc cannot use get a NOT MAPPED note.",
            "The SMTP password is never copied: the file reads it from $ASFC_SMTP_PASSWORD.",
            "Writes to standard output unless --output is given; never overwrites a file without --force.",
            "Exit codes: 0 written, 1 not written (file exists, cannot write), 2 usage,",
            "78 the airflow.cfg is missing, unreadable, not INI, or has no [scheduler_failover] section."
        })
final class ImportAirflowCfgCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "AIRFLOW_CFG", description = "The airflow.cfg to read.")
    private Path airflowCfg;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            description = "Write the asfc.conf here instead of to standard output.")
    private Path output;

    @Option(names = "--force", description = "Overwrite the --output file if it exists.")
    private boolean force;

    @Option(
            names = "--node-id",
            paramLabel = "NODE",
            description = {
                "Write node.id = NODE, for one node. Without it node.id is left out: every agent",
                "takes its host name, as the Python tool did, and one file serves every node."
            })
    private String nodeId;

    @Override
    public Integer call() {
        if (output != null && Files.exists(output) && Files.exists(airflowCfg) && isSameFile(output, airflowCfg)) {
            throw new ParameterException(spec.commandLine(), "--output must not be the airflow.cfg it reads");
        }
        AirflowCfgImporter.Result result;
        try {
            result = AirflowCfgImporter.convert(
                    AirflowCfg.read(airflowCfg.toAbsolutePath().normalize()),
                    Hostnames.local(),
                    Optional.ofNullable(nodeId));
        } catch (AirflowCfgImporter.UnknownNodeId e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        result.warnings().forEach(w -> err.println("asfc-agent: note: " + w));
        if (output == null) {
            spec.commandLine().getOut().print(result.conf());
            spec.commandLine().getOut().flush();
            return ExitCode.OK.code();
        }
        write(result.conf());
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + output);
        out.println("next: read the comments and NOT MAPPED notes in it, then run 'asfc-agent check-config --conf "
                + output + "'");
        return ExitCode.OK.code();
    }

    private void write(String conf) {
        try {
            Path parent = output.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (force) {
                Files.writeString(output, conf, StandardCharsets.UTF_8);
            } else {
                Files.writeString(output, conf, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
            }
        } catch (FileAlreadyExistsException e) {
            throw new CliFailure(output + " already exists; not overwriting it (use --force)");
        } catch (IOException e) {
            throw new CliFailure("cannot write " + output + ": " + e.getMessage());
        }
    }

    private static boolean isSameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false; // one of them vanished meanwhile: then they are not the same file
        }
    }
}
