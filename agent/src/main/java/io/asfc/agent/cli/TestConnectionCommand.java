package io.asfc.agent.cli;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshException;
import io.asfc.common.ssh.SshTarget;
import java.io.PrintWriter;
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
            "It connects to every node of asfc.nodes over SSH and runs 'true'.",
            "One row per node: reachable, host key, authentication, and the command, with the reason of",
            "any failure. All nodes are tried at once; each is bounded by ssh.connect-timeout and",
            "ssh.command-timeout. Exit 0 when every node passes, 1 otherwise."
        })
final class TestConnectionCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final String ROW = "%-12s %-32s %-9s %-9s %-6s %-6s %s%n";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "NODE", arity = "0..*", description = "Only these nodes (default: all of asfc.nodes).")
    private List<String> only = new ArrayList<>();

    /** One node's result; "-" where the step was not reached. */
    record Row(
            String node, String target, String reachable, String hostKey, String auth, String command, String reason) {
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
            RemoteScheduler remote = new RemoteScheduler(ssh, settings.scheduler());
            for (String node : nodes) {
                SshTarget target = SshTarget.of(settings, node);
                rows.put(node, CompletableFuture.supplyAsync(() -> test(remote, target)));
            }
            out.printf(ROW, "NODE", "TARGET", "REACHABLE", "HOST KEY", "AUTH", "TRUE", "RESULT");
            boolean allOk = true;
            for (CompletableFuture<Row> f : rows.values()) {
                Row r = f.join();
                allOk &= r.ok();
                out.printf(ROW, r.node(), r.target(), r.reachable(), r.hostKey(), r.auth(), r.command(), r.reason());
            }
            return allOk ? ExitCode.OK.code() : ExitCode.FAILURE.code();
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage());
        }
    }

    static Row test(RemoteScheduler remote, SshTarget target) {
        String t = target.toString();
        try {
            remote.probe(target);
            return new Row(target.node(), t, "yes", "ok", "ok", "ok", "ok");
        } catch (SshException e) {
            String why = e.getMessage();
            return switch (e.reason()) {
                case UNKNOWN_HOST, CONNECTION_REFUSED, TIMED_OUT, UNREACHABLE -> new Row(
                        target.node(), t, "no", "-", "-", "-", why);
                case HOST_KEY_MISMATCH -> new Row(target.node(), t, "yes", "MISMATCH", "-", "-", why);
                case HOST_KEY_UNKNOWN -> new Row(target.node(), t, "yes", "UNKNOWN", "-", "-", why);
                case AUTH_FAILED -> new Row(target.node(), t, "yes", "ok", "FAILED", "-", why);
                case COMMAND_FAILED -> new Row(target.node(), t, "yes", "ok", "ok", "FAILED", why);
            };
        }
    }
}
