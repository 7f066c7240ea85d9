package io.asfc.agent.supervisor;

import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code scheduler.mode = child}: the agent runs the start command as its own child, in a new
 * session. A death is seen at once. Stop terminates every process of that session and every
 * descendant, wherever it moved: SIGTERM, then SIGKILL after {@code stop-timeout}, or after the
 * shorter {@code orphan-stop-timeout} when the scheduler's main process is already gone. The session is recorded in a state file, so an agent restarted
 * after a crash adopts the scheduler its predecessor left (or stops it, if it is not assigned).
 *
 * <p>With {@code stop-with-agent}, the session also holds a watchdog: a shell loop reading a pipe
 * whose other end only the agent holds. When the agent dies, even by SIGKILL, the kernel closes
 * that end; the watchdog then stops its own session, so no scheduler outlives its agent.
 */
public final class ChildRunner implements SchedulerRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ChildRunner.class);
    /** Stop rounds: a round for what the session forked during the previous one. */
    private static final int MAX_STOP_ROUNDS = 3;
    /** How long the watchdog.device feeder may take to disarm and exit after its session ended. */
    private static final Duration FEEDER_EXIT = Duration.ofSeconds(3);

    private final SchedulerSettings settings;
    private final String node;
    private final Duration deadman;
    private final Path stateFile;
    private final Path output;
    private final TreeStopper stopper;
    private final Clock clock;
    private volatile ChildSession current;
    /** The agent's end of the watchdog's pipe: held open for as long as the scheduler should run. */
    private volatile Lifeline lifeline = Lifeline.NONE;
    /** The session being stopped by us: its exit is expected, not a death. */
    private volatile ChildSession stopping;

    private volatile Runnable exitCallback = () -> {};

    /**
     * @param node this node's id: the scheduler's tree is marked with it ({@link ProcessLaunch})
     * @param deadman with {@code stop-with-agent}: the watchdog stops the scheduler when the agent
     *     has not renewed it ({@link #renew}) for this long
     */
    public ChildRunner(
            String node,
            SchedulerSettings settings,
            Duration deadman,
            Path stateFile,
            Path output,
            TreeStopper stopper,
            Clock clock) {
        this.settings = settings;
        this.node = node;
        this.deadman = deadman;
        this.stateFile = stateFile;
        this.output = output;
        this.stopper = stopper;
        this.clock = clock;
        this.current = adopt();
    }

    @Override
    public void onExit(Runnable callback) {
        this.exitCallback = callback;
        ChildSession t = current;
        if (t != null && t.leaderAlive()) {
            watch(t.leader().pid());
        }
    }

    @Override
    public LocalStatus status() {
        ChildSession t = current;
        if (t != null && t.leaderAlive()) {
            return new LocalStatus(true, t.scheduler(), t.since());
        }
        return LocalStatus.NOT_RUNNING;
    }

    /**
     * The tracked session's processes (those started after its leader: never a reused pid). A
     * process marked with this node outside them is what an earlier agent left: foreign.
     */
    @Override
    public Optional<ForeignSchedulers.Supervised> supervised(ProcessTable table) {
        ChildSession t = current;
        if (t == null) {
            return Optional.of(ForeignSchedulers.Supervised.nothing(false));
        }
        return Optional.of(new ForeignSchedulers.Supervised(t.members(table), Set.of(), false, true));
    }

    /** With {@code watchdog.device}: where the watchdog reports whether it feeds the device. */
    private Path deviceStatus() {
        return DeviceReport.statusFile(stateFile);
    }

    private boolean feedsDevice() {
        return settings.stopWithAgent() && settings.watchdogDevice().isPresent();
    }

    @Override
    public Optional<DeviceReport> watchdogDevice() {
        return feedsDevice() ? DeviceReport.read(deviceStatus()) : Optional.empty();
    }

    private Path childPidFile() {
        return stateFile.resolveSibling(stateFile.getFileName() + ".child");
    }

    /** With a watchdog, the pid it records for the scheduler (waited for briefly); else the leader. */
    private long schedulerPid(ProcessInfo leader) throws InterruptedException {
        if (!settings.stopWithAgent()) {
            return leader.pid();
        }
        for (int i = 0; i < 100; i++) {
            try {
                String text = Files.readString(childPidFile()).trim();
                if (!text.isEmpty()) {
                    return Long.parseLong(text);
                }
            } catch (IOException | NumberFormatException e) {
                // not written yet
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
        return leader.pid();
    }

    @Override
    public void start() throws InterruptedException {
        if (status().running()) {
            return;
        }
        if (current != null) {
            stop(); // what a crashed scheduler left in its session goes first
        }
        Process process;
        try {
            ProcessBuilder builder = ProcessLaunch.builder(settings, node, settings.startCommand(), output);
            if (settings.stopWithAgent()) {
                Files.createDirectories(childPidFile().toAbsolutePath().getParent()); // the watchdog writes it
                Files.deleteIfExists(childPidFile());
                DeviceReport.delete(deviceStatus()); // the previous session's
                builder.command(Watchdog.command(
                                settings.startCommand(),
                                settings.selfFenceStopTimeout(),
                                childPidFile(),
                                deadman,
                                settings.watchdogDevice(),
                                feedsDevice() ? Optional.of(deviceStatus()) : Optional.empty()))
                        .redirectInput(ProcessBuilder.Redirect.PIPE);
            }
            process = builder.start();
            lifeline = settings.stopWithAgent() ? new Lifeline(process.getOutputStream()) : Lifeline.NONE;
        } catch (IOException e) {
            throw new SchedulerStartException(
                    "cannot run start-command: " + e.getMessage(), e); // the command is in the log, not in events
        }
        Optional<ProcessInfo> leader = ProcessTable.read(process.pid()).filter(p -> !p.isZombie());
        if (leader.isEmpty()) {
            int code = process.waitFor();
            LOG.warn("start-command exited at once with status {}: {}", code, settings.startCommand());
            // Events are world-readable znodes: the command (it may hold a secret) stays in the log.
            throw new SchedulerStartException("start-command exited at once with status " + code);
        }
        ChildSession started = new ChildSession(leader.get(), clock.instant(), schedulerPid(leader.get()));
        current = started;
        started.write(stateFile);
        process.onExit().thenRun(() -> exited(started, process.exitValue()));
        LOG.info(
                "started scheduler: pid {} (session {}: {}), output in {}",
                started.scheduler(),
                process.pid(),
                settings.startCommand(),
                output);
    }

    @Override
    public TreeStopper.Result stop() throws InterruptedException {
        return stop(settings.stopTimeout());
    }

    /**
     * Stops the session; what it forks while the stop runs (in no earlier snapshot) is stopped in a
     * further round, so that nothing of the session outlives a stop that reports it stopped.
     */
    @Override
    public TreeStopper.Result stop(Duration limit) throws InterruptedException {
        ChildSession t = current;
        if (t == null) {
            return new TreeStopper.Result(0, 0, List.of());
        }
        stopping = t;
        int terminated = 0;
        int killed = 0;
        List<ProcessInfo> survivors = List.of();
        Set<ProcessInfo> members = stoppable(t);
        for (int round = 0; !members.isEmpty() && survivors.isEmpty() && round < MAX_STOP_ROUNDS; round++) {
            Duration grace = graceFor(t, members);
            TreeStopper.Result r = stopper.stop(members, grace.compareTo(limit) < 0 ? grace : limit);
            terminated += r.terminated();
            killed += r.killed();
            survivors = r.survivors();
            members = stoppable(t);
        }
        TreeStopper.Result result = new TreeStopper.Result(terminated, killed, survivors);
        if (result.stopped() && current == t) {
            current = null;
            ChildSession.delete(stateFile);
            closeLifeline();
            awaitDisarmed(t);
        }
        LOG.info(
                "stopped scheduler session {}: {} process(es) ended on SIGTERM, {} needed SIGKILL{}",
                t.leader().pid(),
                result.terminated(),
                result.killed(),
                result.stopped() ? "" : ", still alive: " + result.survivors());
        return result;
    }

    /**
     * The wait between SIGTERM and SIGKILL: {@code stop-timeout} while the scheduler's main process
     * runs (it shuts its helpers down), {@code orphan-stop-timeout} (at most {@code stop-timeout})
     * for what a main that is already gone left behind, as nobody is left to do that. The main is
     * known by pid only; a pid reused inside the tree would only make the wait the longer one.
     */
    private Duration graceFor(ChildSession t, Set<ProcessInfo> tree) {
        boolean mainRuns = tree.stream().anyMatch(p -> p.pid() == t.scheduler());
        if (mainRuns || tree.isEmpty()) {
            return settings.stopTimeout();
        }
        Duration grace = settings.orphanStopTimeout().compareTo(settings.stopTimeout()) < 0
                ? settings.orphanStopTimeout()
                : settings.stopTimeout();
        LOG.info(
                "the scheduler's main process {} is gone; stopping the {} process(es) it left: SIGTERM,"
                        + " SIGKILL after {}ms (orphan-stop-timeout)",
                t.scheduler(),
                tree.size(),
                grace.toMillis());
        return grace;
    }

    /**
     * What a stop signals: the session, less the deadman's watchdog.device feeder. A SIGKILL would
     * close the device without the magic close, and the host would reset: the feeder disarms it and
     * exits by itself once the rest of the session is gone ({@link #awaitDisarmed}).
     */
    private Set<ProcessInfo> stoppable(ChildSession t) {
        Set<ProcessInfo> members = new HashSet<>(t.members());
        if (settings.watchdogDevice().isPresent() && settings.stopWithAgent()) {
            members.removeIf(p -> p.pid() != t.leader().pid() && Watchdog.isShell(p));
        }
        return members;
    }

    private Set<ProcessInfo> feeders(ChildSession t) {
        Set<ProcessInfo> members = new HashSet<>(t.members());
        members.removeIf(p -> p.pid() == t.leader().pid() || !Watchdog.isShell(p));
        return members;
    }

    /**
     * With {@code watchdog.device}: waits until the deadman's feeder, which a stop never signals, has
     * disarmed the device and exited (it does within a second of the session's end), so that the
     * next start's feeder finds the device free (it allows one opener).
     */
    private void awaitDisarmed(ChildSession t) throws InterruptedException {
        if (settings.watchdogDevice().isEmpty() || !settings.stopWithAgent()) {
            return;
        }
        long deadline = System.nanoTime() + FEEDER_EXIT.toNanos();
        Set<ProcessInfo> left = feeders(t);
        while (!left.isEmpty() && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(50);
            left = feeders(t);
        }
        if (!left.isEmpty()) {
            LOG.warn(
                    "the deadman's feeder of {} has not exited {}ms after the scheduler stopped: {}",
                    settings.watchdogDevice().get(),
                    FEEDER_EXIT.toMillis(),
                    left);
        }
    }

    /** Renews the watchdog's deadman: called by {@link DeadmanFeeder} while the agent is connected. */
    @Override
    public void renew() {
        lifeline.renew();
    }

    @Override
    public OptionalLong prepareHandOver(Path fifo) throws InterruptedException {
        ChildSession t = current;
        if (!settings.stopWithAgent() || t == null || !t.leaderAlive() || lifeline == Lifeline.NONE) {
            return OptionalLong.empty();
        }
        return DeadmanHandOver.request(lifeline, fifo);
    }

    /**
     * Adopts the watchdog of the session this runner adopted from the state file: {@code deadmanPid}
     * must be a process of that session (its watcher), started with timeouts no longer than this
     * agent's and the same {@code watchdog.device} ({@link Watchdog#misfit}).
     */
    @Override
    public boolean adoptDeadman(Path fifo, long deadmanPid) {
        ChildSession t = current;
        if (!settings.stopWithAgent()
                || t == null
                || !t.leaderAlive()
                || t.members().stream().noneMatch(p -> p.pid() == deadmanPid && Watchdog.isShell(p))) {
            return false;
        }
        Optional<String> misfit = Watchdog.misfit(
                DeadmanHandOver.argv(deadmanPid).orElse(List.of()),
                settings.selfFenceStopTimeout(),
                deadman,
                settings.watchdogDevice());
        if (misfit.isPresent()) {
            LOG.warn("not adopting the scheduler's watchdog (pid {}): {}", deadmanPid, misfit.get());
            return false;
        }
        Optional<Lifeline> line = DeadmanHandOver.attach(fifo, deadmanPid);
        line.ifPresent(l -> lifeline = l);
        return line.isPresent();
    }

    /** The watchdog stops the session now too, so an agent killed during its self-fence does not restart the clock. */
    @Override
    public void selfFencing() {
        lifeline.stop();
    }

    private void closeLifeline() {
        Lifeline line = lifeline;
        lifeline = Lifeline.NONE;
        if (line != Lifeline.NONE) {
            line.close();
        }
    }

    private void exited(ChildSession which, int code) {
        if (current == which && stopping != which) {
            LOG.warn(
                    "scheduler pid {} exited: its session {} ended with status {}",
                    which.scheduler(),
                    which.leader().pid(),
                    code);
            exitCallback.run();
        }
    }

    private void watch(long pid) {
        ChildSession t = current;
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().thenRun(() -> exited(t, -1)));
    }

    /** What the state file says runs now, without adopting anything (for is-scheduler-running). */
    public static LocalStatus recorded(Path stateFile) {
        return ChildSession.read(stateFile)
                .filter(ChildSession::leaderAlive)
                .map(r -> new LocalStatus(true, r.scheduler(), r.since()))
                .orElse(LocalStatus.NOT_RUNNING);
    }

    private ChildSession adopt() {
        Optional<ChildSession> recorded = ChildSession.read(stateFile);
        if (recorded.isEmpty()) {
            return null;
        }
        ChildSession t = recorded.get();
        if (t.leaderAlive()) {
            LOG.warn(
                    "found the scheduler session {} (scheduler pid {}) that a previous agent left running; adopting it",
                    t.leader().pid(),
                    t.scheduler());
            return t;
        }
        // The leader is gone, but members of its session may live on: keep it, to stop them.
        return t.members().isEmpty() ? null : t;
    }
}
