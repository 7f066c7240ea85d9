package io.asfc.agent.cli;

import io.asfc.agent.events.EventLog;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "events", description = "Show the newest events of the audit trail.")
final class EventsCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--limit",
            defaultValue = "20",
            description = "How many events, newest first (default ${DEFAULT-VALUE}).")
    private int limit;

    @Option(names = "--json", description = "Print JSON instead of text.")
    private boolean json;

    @Override
    public Integer call() {
        if (limit < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1");
        }
        AsfcSettings settings = cli.settings();
        List<EventLog.Stored> events;
        try (ZkConnection zk = ZkConnection.open(settings)) {
            EventLog log =
                    new EventLog(zk.client(), zk.paths(), settings.nodeId(), Integer.MAX_VALUE, Clock.systemUTC());
            events = ZkException.call(zk.paths().events(), () -> log.recent(limit));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(events));
            return ExitCode.OK.code();
        }
        out.printf("%-10s %-27s %-16s %-18s %s%n", "SEQ", "AT", "NODE", "TYPE", "DETAIL");
        for (EventLog.Stored e : events) {
            out.printf(
                    "%-10d %-27s %-16s %-18s %s%n",
                    e.seq(),
                    e.event().at(),
                    e.event().node(),
                    e.event().type(),
                    e.event().detail());
        }
        return ExitCode.OK.code();
    }
}
