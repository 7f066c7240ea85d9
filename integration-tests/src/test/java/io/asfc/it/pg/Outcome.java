package io.asfc.it.pg;

import java.util.List;

/**
 * What one scenario did and measured. Times are in milliseconds; {@code null} where a figure does not apply.
 *
 * @param name the scenario, e.g. {@code host-crash}
 * @param fault what was done, e.g. "crash of a (kill of its PID namespace, link down)"
 * @param atMillis when the fault began, since the proving ground started
 * @param recoveryMillis from the fault (or from its end, for lost quorum) until the scheduler that runs at the end
 *     was first seen; 0 when it was never interrupted
 * @param newActiveMillis from the fault until ZooKeeper named another sole ACTIVE agent, if it did
 * @param gapMillis time with no scheduler on any host
 * @param overlapMillis time with two or more scheduler processes (S1, on two hosts or on one): the longer of the
 *     lifetime lock's exact figure and the samples'
 * @param overlapSamples process samples that saw two or more scheduler processes
 * @param restarts scheduler processes started during the scenario
 * @param expectedRestarts how many restarts the contract allows, when it says (e.g. 0 for a controller failover)
 * @param schedulerPath where the scheduler ran, in order
 * @param activePath which agent was ACTIVE, in order
 * @param roles every agent's role at the end
 * @param boundMillis the L1 bound the recovery is held to
 * @param problems broken invariants (the suite fails on any)
 * @param notes observations that are not failures
 */
record Outcome(
        String name,
        String fault,
        long atMillis,
        Long recoveryMillis,
        Long newActiveMillis,
        long gapMillis,
        long overlapMillis,
        long overlapSamples,
        int restarts,
        Integer expectedRestarts,
        String schedulerPath,
        String activePath,
        String roles,
        long boundMillis,
        List<String> problems,
        List<String> notes) {

    boolean passed() {
        return problems.isEmpty();
    }

    /** A scenario that could not run to its end: {@code problem} says why. */
    static Outcome failed(String name, long atMillis, long boundMillis, String problem) {
        return new Outcome(
                name,
                "(did not complete)",
                atMillis,
                null,
                null,
                0,
                0,
                0,
                0,
                null,
                "",
                "",
                "",
                boundMillis,
                List.of(problem),
                List.of());
    }
}
