package io.asfc.agent.controller;

/**
 * {@code controller.failback} and {@code failback-after}, as {@link Placement} needs them.
 *
 * @param on {@code to-preferred}: the scheduler returns to the first node of {@code nodes}
 * @param afterNanos how long it must run healthy where it is, and that node be eligible, first
 */
record FailbackTerms(boolean on, long afterNanos) {
    static final FailbackTerms OFF = new FailbackTerms(false, 0);

    static FailbackTerms to(long afterNanos) {
        return new FailbackTerms(true, afterNanos);
    }
}
