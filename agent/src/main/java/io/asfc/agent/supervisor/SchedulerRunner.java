package io.asfc.agent.supervisor;

import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Starts, checks and stops the scheduler on this host. Every method is time-bounded by the
 * scheduler settings (start-timeout, stop-timeout) and never waits on pipes the scheduler
 * inherited. Called from the supervisor's single thread only.
 */
public interface SchedulerRunner {
    /** A fresh look at the scheduler (no cache). */
    LocalStatus status();

    /**
     * Starts the scheduler and returns once it was launched.
     *
     * @throws SchedulerStartException when it could not be started; the message says why
     */
    void start() throws InterruptedException;

    /**
     * Stops the whole process tree: SIGTERM, then SIGKILL after stop-timeout (in child mode, after
     * orphan-stop-timeout when the main process is already gone).
     */
    TreeStopper.Result stop() throws InterruptedException;

    /**
     * Stops as {@link #stop()}, but waits at most {@code grace} between SIGTERM and SIGKILL (the
     * self-fence's {@code self-fence-stop-timeout}). May run while another thread starts or stops
     * the scheduler: every stop is idempotent.
     */
    TreeStopper.Result stop(java.time.Duration grace) throws InterruptedException;

    /**
     * Registers a callback for when the scheduler exits on its own, if this runner can see that
     * at once (child mode); others rely on periodic {@link #status()} checks.
     */
    default void onExit(Runnable callback) {}

    /**
     * Renews the on-host deadman, if this runner has one: without renewals for {@code
     * deadman-timeout}, it stops the scheduler on its own. Called while the agent is connected.
     */
    default void renew() {}

    /**
     * The agent self-fences and is about to stop the scheduler: the on-host deadman, if any, stops it
     * too, with its own kill clock started now, so that an agent killed during its self-fence does
     * not leave the scheduler more than {@code self-fence-stop-timeout} to live (S4).
     */
    default void selfFencing() {}

    /**
     * With {@code watchdog.device}: what the on-host deadman last reported about the device (it feeds
     * it, or cannot open or write to it); empty without a device, or before the first report.
     */
    default Optional<DeviceReport> watchdogDevice() {
        return Optional.empty();
    }

    /**
     * The scheduler this runner supervises, as seen in {@code table}, for the sweep of schedulers
     * asfc did not start ({@code scheduler.foreign}). Empty when the runner cannot tell now (then
     * nothing is swept).
     */
    default Optional<ForeignSchedulers.Supervised> supervised(ProcessTable table) {
        return Optional.empty();
    }

    /**
     * Hand-over (the agent leaves, and a new agent on this host adopts its scheduler): asks the
     * on-host deadman to wait for a new agent on {@code fifo} instead of stopping the scheduler when
     * this agent's end of its pipe closes ({@link DeadmanHandOver}).
     *
     * @return the deadman's pid once it accepted; empty when no scheduler runs, there is no deadman,
     *     or it did not answer: the agent then stops as on any stop
     */
    default OptionalLong prepareHandOver(Path fifo) throws InterruptedException {
        return OptionalLong.empty();
    }

    /**
     * The new agent: adopts the deadman {@code deadmanPid} that a leaving agent handed over on {@code
     * fifo}, with the scheduler it guards; renewals then go to it.
     *
     * @return whether it was adopted: false when it is gone (its deadline passed and it stopped the
     *     scheduler) or when this runner has no scheduler of a previous agent to adopt
     */
    default boolean adoptDeadman(Path fifo, long deadmanPid) {
        return false;
    }
}
