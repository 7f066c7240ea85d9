package io.asfc.agent.cli;

import io.asfc.agent.AgentDirs;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterSnapshot;
import io.asfc.agent.supervisor.ChildRunner;
import io.asfc.agent.supervisor.LocalStatus;
import io.asfc.agent.supervisor.command.CommandRunner;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshException;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.zk.AgentRecord;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "is-scheduler-running",
        aliases = "is_scheduler_running",
        description = {
            "Tell on which nodes a scheduler runs.",
            "Every node of asfc.nodes is checked over SSH (the same process matching as the agents use),",
            "falling back to its agent's report when SSH fails. Each node is running, not running, or",
            "unknown with the reason.",
            "Exit 0 when exactly one node runs it and every node could be checked, 1 otherwise.",
            "With --local: only this host, checked the way its agent checks it; exit 0 when it runs."
        })
final class IsSchedulerRunningCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    private static final String ROW = "%-12s %-12s %s%n";

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Option(names = "--local", description = "Check only this host, without SSH or ZooKeeper.")
    private boolean local;

    enum State {
        RUNNING,
        NOT_RUNNING,
        UNKNOWN
    }

    record Row(String node, State state, String detail) {}

    @Override
    public Integer call() {
        AsfcSettings settings = cli.settings();
        return local ? local(settings) : cluster(settings);
    }

    private Integer local(AsfcSettings settings) {
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

    private Integer cluster(AsfcSettings settings) {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, AgentRecord> agents = new LinkedHashMap<>();
        String zkProblem = null;
        try (ZkConnection zk = ZkConnection.open(settings)) {
            ClusterSnapshot s =
                    new ClusterReader(zk.client(), zk.paths(), settings.cluster(), Clock.systemUTC()).read();
            s.agents().stream().filter(a -> a.record() != null).forEach(a -> agents.put(a.node(), a.record()));
        } catch (ZkUnreachableException e) {
            zkProblem = e.getMessage();
        } catch (Exception e) {
            zkProblem = e.toString();
        }
        List<String> nodes = settings.nodes().isEmpty() ? new ArrayList<>(agents.keySet()) : settings.nodes();
        if (nodes.isEmpty()) {
            out.println("asfc.nodes is empty and no agent is live: nothing to check");
            return ExitCode.FAILURE.code();
        }
        List<Row> rows = new ArrayList<>();
        if (settings.ssh().enabled()) {
            try (SshClient ssh = new SshClient(settings.ssh())) {
                RemoteScheduler remote = new RemoteScheduler(ssh, settings.scheduler());
                Map<String, CompletableFuture<Row>> checks = new LinkedHashMap<>();
                for (String node : nodes) {
                    AgentRecord agent = agents.get(node);
                    checks.put(
                            node,
                            CompletableFuture.supplyAsync(
                                    () -> overSsh(remote, SshTarget.of(settings, node), Optional.ofNullable(agent))));
                }
                checks.values().forEach(f -> rows.add(f.join()));
            } catch (IllegalArgumentException e) {
                throw new CliFailure(e.getMessage());
            }
        } else {
            for (String node : nodes) {
                rows.add(fromAgent(node, Optional.ofNullable(agents.get(node)), "ssh.enabled is false"));
            }
        }
        if (zkProblem != null) {
            out.println("note: agents' reports unavailable (" + zkProblem + ")");
        }
        out.printf(ROW, "NODE", "SCHEDULER", "DETAIL");
        rows.forEach(
                r -> out.printf(ROW, r.node(), r.state().name().toLowerCase().replace('_', ' '), r.detail()));
        long running = rows.stream().filter(r -> r.state() == State.RUNNING).count();
        boolean unknown = rows.stream().anyMatch(r -> r.state() == State.UNKNOWN);
        if (running == 1 && !unknown) {
            out.println("exactly one scheduler runs");
            return ExitCode.OK.code();
        }
        out.println(running + " node(s) run a scheduler" + (unknown ? "; some nodes could not be checked" : ""));
        return ExitCode.FAILURE.code();
    }

    static Row overSsh(RemoteScheduler remote, SshTarget target, Optional<AgentRecord> agent) {
        try {
            RemoteScheduler.Look look = remote.look(target);
            return look.running()
                    ? new Row(target.node(), State.RUNNING, look.describe())
                    : new Row(
                            target.node(),
                            State.NOT_RUNNING,
                            "checked over SSH"
                                    + (look.anyMatch()
                                            ? "; only helpers a dead scheduler left: " + look.describe()
                                            : ""));
        } catch (SshException e) {
            return fromAgent(target.node(), agent, "ssh: " + e.getMessage());
        }
    }

    static Row fromAgent(String node, Optional<AgentRecord> agent, String why) {
        if (agent.isEmpty()) {
            return new Row(node, State.UNKNOWN, why + "; no live agent");
        }
        AgentRecord.SchedulerState s = agent.get().scheduler();
        return new Row(
                node,
                s.running() ? State.RUNNING : State.NOT_RUNNING,
                "per its agent" + (s.running() && s.pid() != null ? " (pid " + s.pid() + ")" : "") + "; " + why);
    }
}
