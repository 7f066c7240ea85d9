package io.asfc.agent.cli;

import io.asfc.agent.AgentDirs;
import io.asfc.agent.Version;
import io.asfc.agent.cluster.ConcurrentChangeException;
import io.asfc.agent.http.HttpBindException;
import io.asfc.agent.membership.DuplicateNodeIdException;
import io.asfc.agent.migration.AirflowCfgException;
import io.asfc.agent.zk.EmbeddedZooKeeper;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.ConfigProblem;
import io.asfc.common.config.InvalidConfigException;
import io.asfc.common.config.S4Budget;
import io.asfc.common.config.SettingsLoader;
import io.asfc.common.config.WatchdogDevice;
import io.asfc.common.net.Hostnames;
import io.asfc.common.zk.ZkException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code asfc-agent} command line. {@link #main} is the only place that calls System.exit. */
@Command(
        name = "asfc-agent",
        mixinStandardHelpOptions = true,
        versionProvider = AsfcCli.VersionProvider.class,
        description = "Keeps exactly one Airflow scheduler running across a cluster, with ZooKeeper.",
        subcommands = {
            RunCommand.class,
            VersionCommand.class,
            InitCommand.class,
            CheckConfigCommand.class,
            SendTestEmailCommand.class,
            GetCurrentHostCommand.class,
            MetadataCommand.class,
            EventsCommand.class,
            ClearMetadataCommand.class,
            IsSchedulerRunningCommand.class,
            TestConnectionCommand.class,
            DoctorCommand.class,
            FailoverCommand.class,
            PauseCommand.class,
            ResumeCommand.class,
            CordonCommand.class,
            UncordonCommand.class,
            DrainCommand.class,
            UnquarantineCommand.class,
            ResetFailuresCommand.class,
            ImportAirflowCfgCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Daemon commands (start, start-foreground, stop, restart, status) are handled by bin/asfc-agent.",
            "Exit codes: 0 ok, 1 failure, 2 usage, 3 not running, 69 ZooKeeper unreachable, 78 bad config;",
            "doctor: 0 healthy, 1 degraded, 2 down (ZooKeeper unreachable included), 78 bad config."
        })
public final class AsfcCli implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AsfcCli.class);

    @Option(names = "--conf", paramLabel = "FILE", description = ConfOption.DESCRIPTION)
    private Path conf;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    static final int USAGE_WIDTH = 110;

    /** Where the kernel's sysfs is mounted: the watchdog device's driver entries are read there. */
    static final Path SYSFS = Path.of("/sys");

    private Path sysfs = SYSFS;

    /** Runs one command line and returns its exit code; the seam for tests. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(out, err, SYSFS, args);
    }

    /** As {@link #execute(PrintWriter, PrintWriter, String...)}, reading {@code sysfs} in place of {@code /sys}. */
    static int execute(PrintWriter out, PrintWriter err, Path sysfs, String... args) {
        AsfcCli root = new AsfcCli();
        root.sysfs = sysfs;
        CommandLine cli = new CommandLine(root);
        // Descriptions are written a line per array element, up to ~100 characters; at picocli's
        // default width (80) each was wrapped mid-sentence and left a stub line behind.
        cli.setUsageHelpWidth(USAGE_WIDTH);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(AsfcCli::handle);
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE.code();
    }

    /** Sets the config file: the top-level {@code --conf}, or a command's own ({@link ConfOption}). */
    void useConf(Path file) {
        conf = file;
    }

    /** The config file this invocation uses. */
    Path confFile() {
        if (conf != null) {
            return conf;
        }
        String dir = System.getProperty("asfc.conf.dir");
        return dir != null ? Path.of(dir, "asfc.conf") : Path.of("conf", "asfc.conf");
    }

    /** Loads and validates the config; throws {@link InvalidConfigException} (exit 78). */
    AsfcSettings settings() {
        return new SettingsLoader(home(), Hostnames::local).load(confFile());
    }

    /**
     * The settings an agent runs with: valid, and within the S4 budget (exit 78 otherwise), so a
     * config that cannot keep S1 never runs.
     */
    AsfcSettings agentSettings() {
        AsfcSettings s = settings();
        S4Budget.of(s).problem().ifPresent(problem -> {
            throw new InvalidConfigException(
                    List.of(new ConfigProblem(s.source().toString(), "asfc.zookeeper.self-fence-after", problem)));
        });
        s.scheduler().watchdogDevice().ifPresent(device -> WatchdogDevice.timeout(device, sysfs)
                .flatMap(timeout -> WatchdogDevice.budgetProblem(S4Budget.of(s), device, timeout))
                .ifPresent(problem -> {
                    throw new InvalidConfigException(List.of(
                            new ConfigProblem(s.source().toString(), "asfc.scheduler.watchdog.device", problem)));
                }));
        return s;
    }

    /** Where sysfs is read ({@code /sys}; a temporary directory in tests). */
    Path sysfs() {
        return sysfs;
    }

    /** The installation directory ({@code -Dasfc.home} from bin/asfc-agent, else the working directory). */
    static Path home() {
        return Path.of(System.getProperty("asfc.home", ".")).toAbsolutePath();
    }

    /** The agent's log and run directories, as bin/asfc-agent passes them. */
    AgentDirs dirs() {
        return AgentDirs.fromSystemProperties(home());
    }

    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        if (e instanceof InvalidConfigException || e instanceof AirflowCfgException) {
            err.println("asfc-agent: " + e.getMessage());
            return ExitCode.BAD_CONFIG.code();
        }
        if (e instanceof ZkUnreachableException) {
            err.println("asfc-agent: " + e.getMessage());
            return ExitCode.ZK_UNREACHABLE.code();
        }
        if (e instanceof CliFailure
                || e instanceof ZkException
                || e instanceof ConcurrentChangeException
                || e instanceof DuplicateNodeIdException
                || e instanceof HttpBindException
                || e instanceof EmbeddedZooKeeper.EmbeddedZooKeeperException) {
            err.println("asfc-agent: " + e.getMessage());
            return ExitCode.FAILURE.code();
        }
        LOG.error("command '{}' failed", cli.getCommandName(), e);
        err.println("asfc-agent: " + cli.getCommandName() + " failed: " + e);
        return ExitCode.FAILURE.code();
    }

    /** Supplies {@code --version}. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"asfc-agent " + Version.get()};
        }
    }
}
