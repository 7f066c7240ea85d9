package io.asfc.agent.alerts;

/**
 * What an {@link Alert} is about. The node of an alert says where, as listed per kind.
 *
 * <p>A <em>condition</em> lasts until it is recovered: it is mailed once while outstanding, then a
 * RECOVERED mail follows. A <em>one-off</em> event (a stray stopped, a move, a leadership change) is
 * mailed every time it happens; only the rate limit holds it back.
 */
public enum AlertKind {
    /** The scheduler failed to start {@code alerts.retry-count-before-alerting} times in a row on the node. */
    START_FAILURES,
    /** The controller moved the scheduler; the node is the one it left (null when it ran nowhere). */
    SCHEDULER_MOVED,
    /** A scheduler found running on the node without an assignment was stopped. */
    STRAY_STOPPED,
    /** The node could not be fenced (reached over SSH to make sure its scheduler is stopped). */
    UNFENCEABLE,
    /** The node cannot be reached. */
    HOST_UNREACHABLE,
    /** No node may run the scheduler; cluster-wide (no node). */
    NO_ELIGIBLE_NODE,
    /** The node's agent became the ACTIVE controller; only mailed when {@code alerts.on-leadership-change}. */
    LEADERSHIP_CHANGE,
    /** The node was quarantined (again), or its quarantine was lifted for one attempt. */
    QUARANTINE,
    /**
     * A scheduler process that asfc did not start ran on the node (by hand, a cron job, an older
     * install): stopped, or only reported ({@code scheduler.foreign}).
     */
    FOREIGN_SCHEDULER,
    /**
     * The on-host deadman on the node cannot open or write to {@code scheduler.watchdog.device}: it
     * runs without it (a freeze of the whole host no longer resets it) until it can feed it again.
     */
    WATCHDOG_DEVICE;

    /** Whether this is a one-off event rather than a condition that lasts until recovered. */
    public boolean oneOff() {
        return this == SCHEDULER_MOVED
                || this == STRAY_STOPPED
                || this == LEADERSHIP_CHANGE
                || this == QUARANTINE
                || this == FOREIGN_SCHEDULER;
    }
}
