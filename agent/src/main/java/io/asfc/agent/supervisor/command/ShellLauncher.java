package io.asfc.agent.supervisor.command;

import io.asfc.agent.supervisor.ProcessLaunch;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs configured commands through {@link ProcessLaunch}: {@code /bin/sh -c}, each as the leader of
 * a new session, stdin from /dev/null, stdout and stderr appended to one output file. Never a pipe:
 * a {@code nohup ... &} grandchild that inherits them cannot make the agent wait.
 *
 * <p>Helpers (check and stop commands) are tracked while they run, so that the scheduler search can
 * leave their process trees alone, and a helper that overruns its bound is stopped with its whole
 * tree (SIGTERM, then SIGKILL after {@link #HELPER_KILL_GRACE}).
 */
final class ShellLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(ShellLauncher.class);

    /** How long an overrunning helper gets between SIGTERM and SIGKILL. */
    static final Duration HELPER_KILL_GRACE = Duration.ofMillis(500);

    private final SchedulerSettings settings;
    private final String node;
    private final Path output;
    private final TreeStopper stopper;
    private final Set<Long> runningHelpers = ConcurrentHashMap.newKeySet();

    /**
     * @param settings the virtualenv and environment of every command
     * @param node the node id every command is marked with ({@link ProcessLaunch}); null for none
     */
    ShellLauncher(SchedulerSettings settings, String node, Path output, TreeStopper stopper) {
        this.settings = settings;
        this.node = node;
        this.output = output;
        this.stopper = stopper;
    }

    /** Starts {@code command} the way {@link ProcessLaunch} starts any scheduler command; the caller owns it. */
    Process launch(String command) throws IOException {
        return ProcessLaunch.builder(settings, node, command, output).start();
    }

    /**
     * Runs a helper command and waits for it at most {@code bound}.
     *
     * @param what names the command in logs, e.g. "check-command"
     * @return its exit status (128+n when killed by signal n), or empty when it overran and was stopped
     * @throws InterruptedException after the helper's tree was killed
     */
    OptionalInt run(String what, String command, Duration bound) throws IOException, InterruptedException {
        Process helper = launch(command);
        runningHelpers.add(helper.pid());
        try {
            if (helper.waitFor(bound.toNanos(), TimeUnit.NANOSECONDS)) {
                return OptionalInt.of(helper.exitValue());
            }
            LOG.warn("{} still runs after {}ms; stopping its process tree: {}", what, bound.toMillis(), command);
            TreeStopper.Result result = stopper.stop(ProcessTable.snapshot().tree(helper.pid()), HELPER_KILL_GRACE);
            if (!result.stopped()) {
                LOG.error("{} survived SIGKILL: {}", what, result.survivors());
            }
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            killNow(helper);
            throw e;
        } finally {
            runningHelpers.remove(helper.pid());
        }
    }

    /** Pids of the helpers running now; each is the leader of its own session. */
    Set<Long> runningHelpers() {
        return Set.copyOf(runningHelpers);
    }

    /** SIGKILL to the helper's tree without waiting: the caller was interrupted and must return. */
    private static void killNow(Process helper) {
        for (ProcessInfo p : ProcessTable.snapshot().tree(helper.pid())) {
            if (TreeStopper.isAlive(p)) {
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        helper.destroyForcibly();
    }
}
