package io.asfc.agent.supervisor;

/** What the reconciler does about the local scheduler, decided from a fresh read without effects. */
enum Step {
    /** Paused, or the assignment is unreadable (S5) or of a newer major schema: neither start nor stop. */
    HOLD,
    /** Running here, but assigned elsewhere or to nobody: stopping is always allowed. */
    STOP,
    /** Assigned here and not running: start, if due and S3 allows. */
    START,
    /** Running here as assigned: watch its health and its failure count. */
    KEEP,
    /** Not running and not assigned here: nothing to do. */
    NONE;

    /**
     * @param paused the control record pauses the cluster
     * @param malformed the assignment (or control) could not be read, or is of a newer major schema
     * @param mine the assignment names this node
     * @param running the scheduler runs on this host
     */
    static Step decide(boolean paused, boolean malformed, boolean mine, boolean running) {
        if (paused || malformed) {
            return HOLD;
        }
        if (running) {
            return mine ? KEEP : STOP;
        }
        return mine ? START : NONE;
    }
}
