package io.asfc.agent.hooks;

import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.metrics.Metrics.HookResult;
import io.asfc.agent.metrics.Metrics.HookSink;
import io.asfc.common.process.ConfiguredCommand;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code hooks.on-event} once per event, one run at a time on its own thread: {@code setsid
 * /bin/sh -c <command>}, the event in environment variables only ({@link HookEvent#environment()}),
 * stdin from /dev/null, output appended to a file (never a pipe, which a background grandchild could
 * hold open). A run that outlasts {@code hooks.timeout} has its whole process tree stopped. A
 * failed run is logged and counted, never retried.
 *
 * <p>The command comes from the local config file only (S5). The shell is there so that the
 * operator may write arguments and quoting as in a crontab; event data never enters the command
 * line, so it is never parsed as shell syntax (a hook that writes {@code "$ASFC_REASON"} gets it as
 * one word).
 */
public final class CommandHook implements EventSink {
    private static final Logger LOG = LoggerFactory.getLogger(CommandHook.class);

    /** Between SIGTERM and SIGKILL for a hook that overran its timeout. */
    static final Duration KILL_GRACE = Duration.ofMillis(500);

    private static final Duration CLOSE_BOUND = Duration.ofSeconds(2);

    private final String command;
    private final Duration timeout;
    private final Path output;
    private final TreeStopper stopper;
    private final Metrics metrics;
    private final SinkQueue queue;

    public CommandHook(
            String nodeId,
            String command,
            Duration timeout,
            int queueSize,
            Path output,
            TreeStopper stopper,
            Metrics metrics) {
        this.command = command;
        this.timeout = timeout;
        this.output = output;
        this.stopper = stopper;
        this.metrics = metrics;
        this.queue = new SinkQueue("command", nodeId, queueSize, e -> metrics.hookEventDropped(HookSink.COMMAND));
    }

    @Override
    public void offer(HookEvent event) {
        queue.offer(event, this::run);
    }

    private void run(HookEvent event) {
        Process process;
        try {
            process = ConfiguredCommand.start(command, event.environment(), output);
        } catch (IOException | RuntimeException e) {
            LOG.warn("hooks.on-event could not be started for event {}: {}", event.type(), command, e);
            metrics.hookRun(HookResult.FAILED);
            return;
        }
        try {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.warn(
                        "hooks.on-event still runs {}ms after event {}: stopping its process tree (pid {})",
                        timeout.toMillis(),
                        event.type(),
                        process.pid());
                stop(process);
                metrics.hookRun(HookResult.TIMEOUT);
                return;
            }
            int status = process.exitValue();
            if (status == 0) {
                LOG.debug("hooks.on-event ran for event {}", event.type());
                metrics.hookRun(HookResult.OK);
            } else {
                LOG.warn(
                        "hooks.on-event exited {} for event {} (not retried; output in {})",
                        status,
                        event.type(),
                        output);
                metrics.hookRun(HookResult.FAILED);
            }
        } catch (InterruptedException e) {
            stop(process); // closing: the hook does not outlive the agent
            Thread.currentThread().interrupt();
        }
    }

    private void stop(Process process) {
        try {
            TreeStopper.Result result = ConfiguredCommand.stop(process, stopper, KILL_GRACE);
            if (!result.stopped()) {
                LOG.error("hooks.on-event survived SIGKILL: {}", result.survivors());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        queue.close(CLOSE_BOUND);
    }
}
