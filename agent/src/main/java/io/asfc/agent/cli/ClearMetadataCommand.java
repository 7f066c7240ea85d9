package io.asfc.agent.cli;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.ZkException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.zookeeper.KeeperException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "clear-metadata",
        aliases = "clear_metadata",
        description = {
            "Delete this cluster's whole subtree in ZooKeeper.",
            "That is the assignment, events and counters.",
            "Refuses while agents are live unless --force; asks for confirmation unless --yes.",
            "With --force while agents are live, it keeps what they use (epoch, leader, active,",
            "agents, scheduler), so the epoch never restarts and no running scheduler is orphaned,",
            "and clears the rest (events, quarantines, the control record)."
        })
final class ClearMetadataCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--force",
            description = "Clear even while agents are live: everything but epoch, leader, active, agents and"
                    + " scheduler.")
    private boolean force;

    @Option(names = "--yes", description = "Do not ask for confirmation.")
    private boolean yes;

    @Override
    public Integer call() throws IOException {
        AsfcSettings settings = cli.settings();
        PrintWriter out = spec.commandLine().getOut();
        try (ZkConnection zk = ZkConnection.open(settings)) {
            String path = zk.paths().cluster();
            if (ZkException.call(path, () -> zk.client().checkExists().forPath(path)) == null) {
                out.println("nothing to clear: " + path + " does not exist");
                return ExitCode.OK.code();
            }
            List<String> live = live(zk);
            if (!live.isEmpty() && !force) {
                throw new CliFailure(live.size() + " agent(s) are live (" + String.join(", ", live)
                        + "); stop them first, or use --force");
            }
            if (!yes && !confirmed(out, path)) {
                throw new CliFailure("aborted; nothing was deleted");
            }
            if (!live.isEmpty()) {
                List<String> cleared = new java.util.ArrayList<>();
                for (String child :
                        ZkException.call(path, () -> zk.client().getChildren().forPath(path))) {
                    if (!IN_USE.contains(child)) {
                        delete(zk, path + "/" + child);
                        cleared.add(child);
                    }
                }
                out.println("cleared " + (cleared.isEmpty() ? "nothing" : String.join(", ", cleared)) + " under " + path
                        + "; kept " + String.join(", ", IN_USE) + ": live agents use them");
                return ExitCode.OK.code();
            }
            delete(zk, path);
            out.println("removed " + path);
        }
        return ExitCode.OK.code();
    }

    /**
     * What live agents use: the epoch (fencing token: numbering must never restart), the latch,
     * {@code active}, their own nodes, and the assignment (emptying it under a running scheduler
     * would make the leader treat its place as unknown).
     */
    private static final List<String> IN_USE = List.of("epoch", "leader", "active", "agents", "scheduler");

    private static void delete(ZkConnection zk, String path) {
        ZkException.call(path, () -> {
            try {
                zk.client().delete().deletingChildrenIfNeeded().forPath(path);
            } catch (KeeperException.NoNodeException e) {
                // removed concurrently: the goal is reached
            }
            return null;
        });
    }

    private static List<String> live(ZkConnection zk) {
        return ZkException.call(zk.paths().agents(), () -> {
            try {
                return zk.client().getChildren().forPath(zk.paths().agents());
            } catch (KeeperException.NoNodeException e) {
                return List.of();
            }
        });
    }

    private static boolean confirmed(PrintWriter out, String path) throws IOException {
        out.print("This deletes " + path + " and everything under it. Type 'yes' to continue: ");
        out.flush();
        String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        return "yes".equals(answer == null ? null : answer.trim());
    }
}
