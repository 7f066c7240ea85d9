package io.asfc.agent.cli;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshPhases;
import io.asfc.common.ssh.SshTarget;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "test-connection",
        aliases = "test_connection",
        description = {
            "Check SSH to every node, as the ACTIVE controller would.",
            "It connects to every node of asfc.nodes over a new SSH session and runs 'true' through the remote",
            "user's shell. One row per node: reachable, host key, authentication, the remote shell's start, the",
            "command, and the reason of any failure, then each phase's time: connect (TCP), authenticate",
            "(handshake, host key, key authentication), remote shell start (the remote user's ~/.bashrc and",
            "the like), command. A remote shell start that times out, or takes at least half of",
            "ssh.command-timeout, is named as such (SLOW): every command, stops included, waits for it.",
            "All nodes are tried at once; each is bounded by ssh.connect-timeout and ssh.command-timeout.",
            "Exit 0 when every node passes, 1 otherwise (a SLOW shell does not pass)."
        })
final class TestConnectionCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final String ROW = "%-12s %-32s %-9s %-9s %-6s %-7s %-6s %s%n";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "NODE", arity = "0..*", description = "Only these nodes (default: all of asfc.nodes).")
    private List<String> only = new ArrayList<>();

    /** One node's result; "-" where the step was not reached. */
    record Row(
            String node,
            String target,
            String reachable,
            String hostKey,
            String auth,
            String shell,
            String command,
            String reason,
            String phases) {
        boolean ok() {
            return reason.equals("ok");
        }
    }

    @Override
    public Integer call() {
        AsfcSettings settings = cli.settings();
        PrintWriter out = spec.commandLine().getOut();
        if (!settings.ssh().enabled()) {
            out.println("asfc.ssh.enabled is false: asfc makes no SSH connections");
            return ExitCode.FAILURE.code();
        }
        List<String> nodes = only.isEmpty() ? settings.nodes() : only;
        for (String node : nodes) {
            if (!settings.nodes().contains(node)) {
                throw new CliFailure("unknown node '" + node + "'; asfc.nodes is " + settings.nodes());
            }
        }
        if (nodes.isEmpty()) {
            out.println("asfc.nodes is empty: no node to test");
            return ExitCode.FAILURE.code();
        }
        Map<String, CompletableFuture<Row>> rows = new LinkedHashMap<>();
        try (SshClient ssh = new SshClient(settings.ssh())) {
            for (String node : nodes) {
                SshTarget target = SshTarget.of(settings, node);
                rows.put(
                        node,
                        CompletableFuture.supplyAsync(
                                () -> row(target, ssh.timedProbe(target, "true"), ssh.commandTimeout())));
            }
            out.printf(ROW, "NODE", "TARGET", "REACHABLE", "HOST KEY", "AUTH", "SHELL", "TRUE", "RESULT [PHASES]");
            boolean allOk = true;
            for (CompletableFuture<Row> f : rows.values()) {
                Row r = f.join();
                allOk &= r.ok();
                out.printf(
                        ROW,
                        r.node(),
                        r.target(),
                        r.reachable(),
                        r.hostKey(),
                        r.auth(),
                        r.shell(),
                        r.command(),
                        r.reason() + " [" + r.phases() + "]");
            }
            return allOk ? ExitCode.OK.code() : ExitCode.FAILURE.code();
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage());
        }
    }

    static Row row(SshTarget target, SshPhases p, Duration commandTimeout) {
        String t = target.toString();
        String node = target.node();
        String why = p.verdict(commandTimeout);
        String phases = p.summary();
        if (p.ok()) {
            return p.slowShell(commandTimeout)
                    ? new Row(node, t, "yes", "ok", "ok", "SLOW", "ok", why, phases)
                    : new Row(node, t, "yes", "ok", "ok", "ok", "ok", why, phases);
        }
        return switch (p.failedIn()) {
            case CONNECT -> new Row(node, t, "no", "-", "-", "-", "-", why, phases);
            case AUTHENTICATE -> switch (p.failure().reason()) {
                case HOST_KEY_MISMATCH -> new Row(node, t, "yes", "MISMATCH", "-", "-", "-", why, phases);
                case HOST_KEY_UNKNOWN -> new Row(node, t, "yes", "UNKNOWN", "-", "-", "-", why, phases);
                case AUTH_FAILED -> new Row(node, t, "yes", "ok", "FAILED", "-", "-", why, phases);
                default -> new Row(node, t, "no", "-", "-", "-", "-", why, phases);
            };
            case SHELL_START -> new Row(
                    node, t, "yes", "ok", "ok", p.slowShell(commandTimeout) ? "SLOW" : "FAILED", "-", why, phases);
            case COMMAND -> new Row(node, t, "yes", "ok", "ok", "ok", "FAILED", why, phases);
        };
    }
}
