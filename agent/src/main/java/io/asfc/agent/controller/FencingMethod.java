package io.asfc.agent.controller;

import io.asfc.agent.election.Lease;

/**
 * One way to confirm that a node's scheduler is stopped, for clause (b) of the leave-rule: one entry
 * of {@code controller.fencing} ({@code ssh}, or {@code shell:<command>}). A confirmed outcome is what
 * lets the assignment leave a node whose agent cannot say so itself; anything else lets nothing leave.
 * (STYLE.md calls stopping a scheduler on another host a host stop; these are its methods.)
 */
interface FencingMethod {
    /** What a method did: {@code confirmed} only when the node's scheduler is certainly stopped. */
    record Outcome(boolean confirmed, String detail) {}

    /** How logs and events name it; never a command's text (it may hold a secret). */
    String name();

    /**
     * Blocks, bounded by the method's own timeouts; runs on the node's serial queue ({@link NodeOps}),
     * never on the controller thread. Acts only while {@code lease} holds.
     *
     * @param generation the {@code mzxid} of the unassignment this stop is for
     */
    Outcome fence(Lease lease, String node, long generation);
}
