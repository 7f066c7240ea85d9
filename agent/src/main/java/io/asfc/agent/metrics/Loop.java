package io.asfc.agent.metrics;

import java.util.Locale;

/** The agent's long-running loops, each on its own thread, whose progress {@code /health} watches. */
public enum Loop {
    /** The election thread: leadership callbacks, and a one-second pulse. */
    ELECTION,
    /** The heartbeat thread: refreshes {@code agents/<node>} every heartbeat interval. */
    HEARTBEAT,
    /** The supervisor thread: reconciles the local scheduler every check interval. */
    SUPERVISOR,
    /** The controller thread: re-reads the cluster every heartbeat interval (and acts while ACTIVE). */
    CONTROLLER;

    /** The label value, e.g. {@code supervisor}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
