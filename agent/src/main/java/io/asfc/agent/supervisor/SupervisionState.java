package io.asfc.agent.supervisor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the {@link Reconciler} (on the supervisor thread) and the {@link SelfFence} (on Curator's
 * event thread and its own timer thread) share. Every field is safe to read and write from any
 * thread; nothing here blocks, so the self-fence never waits on the start path.
 *
 * <ul>
 *   <li>the connection facts, written only by the self-fence's connection listener: whether it is
 *       SUSPENDED, and a generation that changes at every state change (a start needs the
 *       connection it read under);
 *   <li>how many self-fences ran: a start that saw the count change while it ran stops what it
 *       started;
 *   <li>whether a scheduler we started should be running, and whether a stop is in progress: a
 *       scheduler found not running then is a death only if neither a stop nor a self-fence
 *       caused it.
 * </ul>
 */
final class SupervisionState {
    private volatile boolean suspended;
    private final AtomicLong connectionGeneration = new AtomicLong();
    private final AtomicLong selfFences = new AtomicLong();
    /** A start succeeded and no stop of ours followed: not running then means it died. */
    private volatile boolean expectRunning;
    /** Stops in progress, by the reconciler, the self-fence or close(); they may overlap. */
    private final AtomicInteger stopping = new AtomicInteger();

    /** Called first at every connection state change, whatever the new state. */
    void connectionChanged() {
        connectionGeneration.incrementAndGet();
    }

    void suspended(boolean nowSuspended) {
        suspended = nowSuspended;
    }

    boolean suspended() {
        return suspended;
    }

    long connectionGeneration() {
        return connectionGeneration.get();
    }

    /** True while the connection is up and has not changed since {@code generation} was read. */
    boolean sameConnection(long generation) {
        return !suspended && generation == connectionGeneration.get();
    }

    void selfFenced() {
        selfFences.incrementAndGet();
    }

    long selfFences() {
        return selfFences.get();
    }

    boolean expectRunning() {
        return expectRunning;
    }

    void expectRunning(boolean expect) {
        expectRunning = expect;
    }

    /** Marks a stop as begun and the scheduler as no longer expected to run; pair with {@link #stopEnded()}. */
    void stopBegan() {
        expectRunning = false;
        stopping.incrementAndGet();
    }

    void stopEnded() {
        stopping.decrementAndGet();
    }

    boolean stopping() {
        return stopping.get() > 0;
    }
}
