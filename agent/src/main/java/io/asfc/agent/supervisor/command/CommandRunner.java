package io.asfc.agent.supervisor.command;

import io.asfc.agent.supervisor.DeviceReport;
import io.asfc.agent.supervisor.ForeignSchedulers;
import io.asfc.agent.supervisor.LocalStatus;
import io.asfc.agent.supervisor.SchedulerRunner;
import io.asfc.agent.supervisor.SchedulerStartException;
import io.asfc.agent.supervisor.command.SchedulerProcesses.Observation;
import io.asfc.agent.supervisor.command.SchedulerProcesses.Seen;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.PosixEre;
import io.asfc.common.process.ProcessClock;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessMatcher;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command mode: the scheduler is run by the configured commands, as the Python ASFC did, but
 * without its faults. Every command runs with {@code /bin/sh -c} in a new session, stdin from
 * /dev/null, output appended to the output file (never a pipe), with the {@code virtualenv} and
 * {@code environment} settings applied.
 *
 * <p><b>start</b> runs {@code start-command} and waits up to {@code start-timeout}: exit 0 means
 * started, another exit status throws {@link SchedulerStartException}, and a command still running
 * then is a scheduler in the foreground, which counts as started.
 *
 * <p><b>status</b> asks, in this order, {@code check-command} (exit 0: running), {@code pid-file}
 * (running iff its pid is alive), or {@code process-pattern}. An <em>unknown</em> answer is
 * reported as running ({@code LocalStatus(true, pid-or-null, null)}), because a supervisor starts
 * a scheduler when it sees none, and a start on a guess could make a second one (S1). Unknown is:
 * a check that overran its timeout (it is then killed with its tree), a check that could not run
 * (exit 126 or 127, or an I/O error), a check killed by a signal (exit above 128), and a pid file
 * that exists but holds no pid (unreadable, empty, half-written). Exits 1 to 125 mean not running.
 * A persistent unknown thus blocks restarts; it is logged at WARN once per distinct cause.
 *
 * <p><b>stop</b> notes the scheduler's processes, runs {@code stop-command} (bounded by
 * {@code stop-timeout}), then stops with {@link TreeStopper} (SIGTERM, SIGKILL after
 * {@code stop-timeout}) whatever is left: those noted processes still alive, plus the trees found
 * now, by the pid file when its process runs, else by the pattern. Without a stop-command it goes
 * straight to the tree stop. It never signals this JVM, its ancestors, or a running helper command
 * (see {@link ProcessMatcher}). At most {@code 2 x stop-timeout} plus a few seconds.
 *
 * <p>The check timeout defaults to {@link #defaultCheckTimeout}: {@code max(check-interval, 5s)}.
 * One status call thus blocks at most that plus {@link ShellLauncher#HELPER_KILL_GRACE} plus the
 * kill wait. Called from one supervisor thread; {@code status()} may also be called concurrently.
 */
public final class CommandRunner implements SchedulerRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);

    /** The least time a check-command gets: the Airflow CLI alone takes seconds to start. */
    public static final Duration MIN_CHECK_TIMEOUT = Duration.ofSeconds(5);

    private final SchedulerSettings settings;
    /** This node's id, the mark of what its commands start; null outside the agent. */
    private final String node;

    private final LongSupplier nanoTime;
    private final TreeStopper stopper;
    private final Duration checkTimeout;
    private final ShellLauncher shell;
    private final SchedulerProcesses processes;
    private final AtomicReference<String> unknownCause = new AtomicReference<>();
    /** The on-host deadman, with {@code stop-with-agent}; null without. */
    private final CommandDeadman deadman;

    /** @param output the file that the commands' stdout and stderr are appended to */
    public CommandRunner(SchedulerSettings settings, Path output, TreeStopper stopper) {
        this(settings, output, System::nanoTime, stopper, defaultCheckTimeout(settings));
    }

    public CommandRunner(
            SchedulerSettings settings,
            Path output,
            LongSupplier nanoTime,
            TreeStopper stopper,
            Duration checkTimeout) {
        this.settings = settings;
        this.node = null;
        this.nanoTime = nanoTime;
        this.stopper = stopper;
        this.checkTimeout = checkTimeout;
        this.shell = new ShellLauncher(settings, null, output, stopper);
        ProcessMatcher matcher = new ProcessMatcher(Pattern.compile(settings.processPattern()));
        this.processes = new SchedulerProcesses(
                settings.pidFile(), matcher, settings.helperPattern().map(Pattern::compile), shell::runningHelpers);
        this.deadman = null;
    }

    /**
     * The agent's runner: with {@code stop-with-agent}, an on-host deadman ({@link CommandDeadman})
     * runs from the first start (or the first sight of a running scheduler) and stops the scheduler
     * when the agent has not renewed it for {@code deadman}, or dies.
     */
    public CommandRunner(String node, SchedulerSettings settings, Duration deadman, Path output, TreeStopper stopper) {
        this.settings = settings;
        this.node = node;
        this.nanoTime = System::nanoTime;
        this.stopper = stopper;
        this.checkTimeout = defaultCheckTimeout(settings);
        this.shell = new ShellLauncher(settings, node, output, stopper);
        ProcessMatcher matcher = new ProcessMatcher(Pattern.compile(settings.processPattern()));
        this.processes = new SchedulerProcesses(
                settings.pidFile(), matcher, settings.helperPattern().map(Pattern::compile), shell::runningHelpers);
        this.deadman = settings.stopWithAgent()
                ? new CommandDeadman(
                        node,
                        PosixEre.of(settings.processPattern())
                                .ere()
                                .orElseThrow(() -> new IllegalArgumentException("scheduler.process-pattern: "
                                        + PosixEre.of(settings.processPattern()).problem())),
                        settings.selfFenceStopTimeout(),
                        deadman,
                        settings.pidFile().orElse(null),
                        output.resolveSibling(output.getFileName() + ".deadman"),
                        settings.watchdogDevice().orElse(null))
                : null;
    }

    @Override
    public void renew() {
        if (deadman != null) {
            deadman.renew();
        }
    }

    @Override
    public Optional<DeviceReport> watchdogDevice() {
        return deadman == null ? Optional.empty() : deadman.report();
    }

    @Override
    public void selfFencing() {
        if (deadman != null) {
            deadman.stopNow();
        }
    }

    /**
     * A runner for a one-off {@link #status()} outside the agent (the {@code is-scheduler-running}
     * command): the same answer the agent would get, unknown included.
     */
    public static CommandRunner forChecking(SchedulerSettings settings, Path output) {
        return new CommandRunner(settings, output, new TreeStopper(System::nanoTime));
    }

    /** {@code max(check-interval, 5s)}. */
    public static Duration defaultCheckTimeout(SchedulerSettings settings) {
        Duration interval = settings.checkInterval();
        return interval.compareTo(MIN_CHECK_TIMEOUT) > 0 ? interval : MIN_CHECK_TIMEOUT;
    }

    /**
     * {@inheritDoc}
     *
     * <p>When interrupted, the start-command is left running: it may be becoming the scheduler, and
     * a later {@link #stop()} finds it.
     */
    @Override
    public void start() throws InterruptedException {
        if (deadman != null) {
            deadman.ensureRunning(); // before anything starts: a freeze during the start is covered too
            deadman.arm();
        }
        String command = settings.startCommand();
        long began = nanoTime.getAsLong();
        Process process;
        try {
            process = shell.launch(command);
        } catch (IOException e) {
            LOG.warn("cannot run start-command: {}", command);
            // Events are world-readable znodes: the command (it may hold a secret) stays in the log.
            throw new SchedulerStartException("cannot run start-command: " + e.getMessage(), e);
        }
        Duration timeout = settings.startTimeout();
        if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            LOG.info(
                    "start-command still runs after {}ms: taking it for a scheduler in the foreground (pid {}): {}",
                    timeout.toMillis(),
                    process.pid(),
                    command);
            return;
        }
        int exit = process.exitValue();
        if (exit != 0) {
            LOG.warn("start-command exited {}: {}", exit, command);
            throw new SchedulerStartException("start-command exited " + exit);
        }
        LOG.info("start-command exited 0 after {}ms: {}", millisSince(began), command);
    }

    @Override
    public LocalStatus status() {
        LocalStatus status;
        if (settings.checkCommand().isPresent()) {
            Seen seen = check(settings.checkCommand().get());
            status = toStatus(
                    seen, processes.pidFileProcess(ProcessTable.snapshot()).orElse(null));
        } else {
            Observation look = processes.look(ProcessTable.snapshot());
            noteCause(look.seen() == Seen.UNKNOWN ? look.problem() : null);
            status = toStatus(look.seen(), look.main());
        }
        if (status.running() && deadman != null) {
            deadman.ensureRunning(); // a scheduler this agent did not start (adopted) is covered too
            deadman.arm();
        }
        return status;
    }

    @Override
    public OptionalLong prepareHandOver(Path fifo) throws InterruptedException {
        return deadman != null && status().running() ? deadman.handOver(fifo) : OptionalLong.empty();
    }

    @Override
    public boolean adoptDeadman(Path fifo, long deadmanPid) {
        return deadman != null && deadman.adopt(fifo, deadmanPid);
    }

    @Override
    public TreeStopper.Result stop() throws InterruptedException {
        return stop(settings.stopTimeout());
    }

    @Override
    public TreeStopper.Result stop(Duration grace) throws InterruptedException {
        long began = nanoTime.getAsLong();
        Map<Long, ProcessInfo> noted = processes.targets(ProcessTable.snapshot());
        if (settings.stopCommand().isPresent()) {
            runStopCommand(settings.stopCommand().get(), grace);
        }
        ProcessTable table = ProcessTable.snapshot();
        Map<Long, ProcessInfo> left = processes.stillRunning(table, noted.values());
        processes.targets(table).forEach(left::putIfAbsent);
        if (left.isEmpty()) {
            LOG.info("scheduler stopped after {}ms; no process left", millisSince(began));
            disarmDeadman();
            return new TreeStopper.Result(0, 0, List.of());
        }
        LOG.info(
                "stopping {} scheduler process(es) with SIGTERM, SIGKILL after {}ms: {}",
                left.size(),
                grace.toMillis(),
                left.keySet());
        TreeStopper.Result result = stopper.stop(left.values(), grace);
        if (result.stopped()) {
            LOG.info("scheduler stopped after {}ms: {}", millisSince(began), result);
            disarmDeadman();
        } else {
            LOG.error("scheduler process(es) survived SIGKILL: {}", result.survivors());
        }
        return result;
    }

    private void disarmDeadman() {
        if (deadman != null) {
            deadman.disarm();
        }
    }

    /**
     * The scheduler this runner started or adopted, for the foreign sweep ({@link
     * SchedulerProcesses#supervised}). A process marked with this node is this runner's (a
     * start-command may daemonize out of the tree), and so is the deadman.
     */
    @Override
    public Optional<ForeignSchedulers.Supervised> supervised(ProcessTable table) {
        return processes.supervised(
                table,
                settings.checkCommand().isPresent(),
                p -> node != null
                        && ProcessOrigin.of(p.pid())
                                .markedFor()
                                .filter(node::equals)
                                .isPresent());
    }

    /** What a check-command's outcome says; empty means it overran its timeout. */
    static Seen interpretCheck(OptionalInt exit) {
        if (exit.isEmpty()) {
            return Seen.UNKNOWN;
        }
        int code = exit.getAsInt();
        if (code == 0) {
            return Seen.RUNNING;
        }
        return code <= 125 ? Seen.NOT_RUNNING : Seen.UNKNOWN;
    }

    private Seen check(String command) {
        String cause;
        try {
            OptionalInt exit = shell.run("check-command", command, checkTimeout);
            Seen seen = interpretCheck(exit);
            if (seen != Seen.UNKNOWN) {
                noteCause(null);
                return seen;
            }
            cause = exit.isEmpty()
                    ? "check-command overran " + checkTimeout.toMillis() + "ms and was killed"
                    : "check-command exited " + exit.getAsInt() + " (could not run, or died of a signal)";
        } catch (IOException e) {
            cause = "cannot run check-command: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cause = "interrupted while checking";
        }
        noteCause(cause);
        return Seen.UNKNOWN;
    }

    private void runStopCommand(String command, Duration grace) throws InterruptedException {
        try {
            OptionalInt exit = shell.run("stop-command", command, grace);
            if (exit.isPresent() && exit.getAsInt() != 0) {
                LOG.warn("stop-command exited {}; stopping what is left: {}", exit.getAsInt(), command);
            }
        } catch (IOException e) {
            LOG.error("cannot run stop-command {}; stopping the scheduler's processes directly", command, e);
        }
    }

    /** Logs a new cause of an unknown status at WARN, and its end at INFO. */
    private void noteCause(String cause) {
        String before = unknownCause.getAndSet(cause);
        if (cause != null && !cause.equals(before)) {
            LOG.warn("scheduler status unknown, taken as running so that no second one starts: {}", cause);
        } else if (cause == null && before != null) {
            LOG.info("scheduler status known again (was unknown: {})", before);
        }
    }

    private static LocalStatus toStatus(Seen seen, ProcessInfo main) {
        if (seen == Seen.NOT_RUNNING) {
            return LocalStatus.NOT_RUNNING;
        }
        return main == null
                ? new LocalStatus(true, null, null)
                : new LocalStatus(true, main.pid(), ProcessClock.startOf(main).orElse(null));
    }

    private long millisSince(long began) {
        return TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - began);
    }
}
