package io.asfc.agent.supervisor;

import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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

    private final SchedulerSettings settings;
    private final String node;
    private final Duration deadman;
    private final Path stateFile;
    private final Path output;
    private final TreeStopper stopper;
    private final Clock clock;
    private volatile Tracked current;
    /** The agent's end of the watchdog's pipe: held open for as long as the scheduler should run. */
    private volatile OutputStream lifeline;
    /** The session being stopped by us: its exit is expected, not a death. */
    private volatile Tracked stopping;

    private volatile Runnable exitCallback = () -> {};

    /**
     * The session leader we started (or adopted), identified by pid and start time.
     *
     * @param scheduler the scheduler's own pid when a watchdog leads the session, else the leader's
     */
    private record Tracked(ProcessInfo leader, Instant since, long scheduler) {}

    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

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
        Tracked t = current;
        if (t != null && TreeStopper.isAlive(t.leader())) {
            watch(t.leader().pid());
        }
    }

    @Override
    public LocalStatus status() {
        Tracked t = current;
        if (t != null && TreeStopper.isAlive(t.leader())) {
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
        Tracked t = current;
        if (t == null) {
            return Optional.of(ForeignSchedulers.Supervised.nothing(false));
        }
        Set<ProcessInfo> tree = table.tree(t.leader().pid()).stream()
                .filter(p -> p.startTicks() >= t.leader().startTicks())
                .collect(Collectors.toSet());
        return Optional.of(new ForeignSchedulers.Supervised(tree, Set.of(), false, true));
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
                builder.command(Watchdog.command(
                                settings.startCommand(), settings.selfFenceStopTimeout(), childPidFile(), deadman))
                        .redirectInput(ProcessBuilder.Redirect.PIPE);
            }
            process = builder.start();
            lifeline = settings.stopWithAgent() ? process.getOutputStream() : null;
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
        Tracked started = new Tracked(leader.get(), clock.instant(), schedulerPid(leader.get()));
        current = started;
        writeState(started);
        process.onExit().thenRun(() -> exited(started, process.exitValue()));
        LOG.info("started scheduler: pid {} ({}), output in {}", process.pid(), settings.startCommand(), output);
    }

    @Override
    public TreeStopper.Result stop() throws InterruptedException {
        return stop(settings.stopTimeout());
    }

    @Override
    public TreeStopper.Result stop(Duration limit) throws InterruptedException {
        Tracked t = current;
        if (t == null) {
            return new TreeStopper.Result(0, 0, List.of());
        }
        Set<ProcessInfo> tree = ProcessTable.snapshot().tree(t.leader().pid()).stream()
                .filter(p -> p.startTicks() >= t.leader().startTicks()) // never a reused pid's tree
                .collect(Collectors.toSet());
        stopping = t;
        Duration grace = graceFor(t, tree);
        TreeStopper.Result result = stopper.stop(tree, grace.compareTo(limit) < 0 ? grace : limit);
        if (result.stopped() && current == t) {
            current = null;
            deleteState();
            closeLifeline();
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
    private Duration graceFor(Tracked t, Set<ProcessInfo> tree) {
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
     * Renews the watchdog's deadman: called by {@link DeadmanFeeder} while the agent is connected.
     * A write to a watchdog that is gone fails quietly (its scheduler is gone with it).
     */
    @Override
    public void renew() {
        write("\n");
    }

    /** The watchdog stops the session now too, so an agent killed during its self-fence does not restart the clock. */
    @Override
    public void selfFencing() {
        write("stop\n");
    }

    private void write(String text) {
        OutputStream line = lifeline;
        if (line == null) {
            return;
        }
        try {
            synchronized (line) {
                line.write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                line.flush();
            }
        } catch (IOException e) {
            LOG.debug("could not write to the watchdog (it is gone)", e);
        }
    }

    private void closeLifeline() {
        OutputStream line = lifeline;
        lifeline = null;
        if (line != null) {
            try {
                line.close();
            } catch (IOException e) {
                // the watchdog is gone already: nothing holds the other end
            }
        }
    }

    private void exited(Tracked which, int code) {
        if (current == which && stopping != which) {
            LOG.warn("scheduler pid {} exited with status {}", which.leader().pid(), code);
            exitCallback.run();
        }
    }

    private void watch(long pid) {
        Tracked t = current;
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().thenRun(() -> exited(t, -1)));
    }

    /** What the state file says runs now, without adopting anything (for is-scheduler-running). */
    public static LocalStatus recorded(Path stateFile) {
        return readState(stateFile)
                .filter(r -> TreeStopper.isAlive(r.leader()))
                .map(r -> new LocalStatus(true, r.scheduler(), r.since()))
                .orElse(LocalStatus.NOT_RUNNING);
    }

    private Tracked adopt() {
        Optional<Tracked> recorded = readState(stateFile);
        if (recorded.isEmpty()) {
            return null;
        }
        Tracked t = recorded.get();
        if (TreeStopper.isAlive(t.leader())) {
            LOG.warn(
                    "found the scheduler session {} that a previous agent left running; adopting it",
                    t.leader().pid());
            return t;
        }
        // The leader is gone, but members of its session may live on: keep it, to stop them.
        boolean leftovers = ProcessTable.snapshot().tree(t.leader().pid()).stream()
                .anyMatch(p -> p.startTicks() >= t.leader().startTicks());
        return leftovers ? t : null;
    }

    /** This boot's id (Linux), so that a session recorded before a reboot is never taken for a live one. */
    static String bootId() {
        try {
            return Files.readString(BOOT_ID).trim();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static Optional<Tracked> readState(Path stateFile) {
        try {
            if (!Files.exists(stateFile)) {
                return Optional.empty();
            }
            String[] f = Files.readString(stateFile).trim().split("\\s+");
            if (f.length > 4 && !f[4].equals(bootId())) {
                // Recorded before a reboot: its pids may now belong to anything. Never signal them.
                LOG.info("ignoring {}: it was written before this host rebooted (boot id {})", stateFile, f[4]);
                return Optional.empty();
            }
            long pid = Long.parseLong(f[0]);
            long ticks = Long.parseLong(f[1]);
            Instant since = Instant.ofEpochMilli(Long.parseLong(f[2]));
            ProcessInfo leader = ProcessTable.read(pid)
                    .filter(p -> p.startTicks() == ticks)
                    .orElse(new ProcessInfo(pid, 0, pid, pid, 'X', ticks, ""));
            long scheduler = f.length > 3 ? Long.parseLong(f[3]) : pid;
            return Optional.of(new Tracked(leader, since, scheduler));
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring unreadable scheduler state file {}", stateFile, e);
            return Optional.empty();
        }
    }

    private void writeState(Tracked t) {
        try {
            Files.createDirectories(stateFile.toAbsolutePath().getParent());
            Path tmp = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
            Files.writeString(
                    tmp,
                    t.leader().pid() + " " + t.leader().startTicks() + " "
                            + t.since().toEpochMilli() + " " + t.scheduler() + " " + bootId() + "\n",
                    StandardCharsets.UTF_8);
            Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("cannot record the scheduler session in {}; a restarted agent won't find it", stateFile, e);
        }
    }

    private void deleteState() {
        try {
            Files.deleteIfExists(stateFile);
        } catch (IOException e) {
            LOG.warn("cannot delete {}", stateFile, e);
        }
    }
}
