package io.asfc.agent.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h, --help} of a subcommand. Unlike picocli's standard help options it has no {@code -V}:
 * the version is the top-level command's ({@code asfc-agent -V}) and the {@code version} command's.
 */
final class HelpOption {
    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help message and exit.")
    private boolean help;
}
