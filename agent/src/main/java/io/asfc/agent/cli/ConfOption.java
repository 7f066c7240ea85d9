package io.asfc.agent.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --conf FILE} of a subcommand that reads the config, so that it shows in that command's help
 * and nowhere it would mean nothing. It sets the same file as the top-level
 * {@code asfc-agent --conf FILE COMMAND}; given after the command, it wins.
 */
final class ConfOption {
    static final String DESCRIPTION = "Config file (default: $ASFC_CONF_DIR/asfc.conf, i.e. conf/asfc.conf).";

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--conf", paramLabel = "FILE", description = DESCRIPTION)
    private void conf(Path file) {
        if (file != null) { // picocli may reset an unmatched option to null; the top-level one stays
            ((AsfcCli) mixee.root().userObject()).useConf(file);
        }
    }
}
