package io.asfc.agent.election;

/**
 * Proof of leadership for fenced writes: the leader's latch node and the version of the epoch
 * znode it set. Both are checked in every leader-owned transaction, so a deposed or paused leader
 * holding an old lease cannot write.
 *
 * @param epoch the fencing token; equal to the epoch znode's version
 */
public record Lease(String node, long epoch, String latchPath) {
    int epochVersion() {
        return Math.toIntExact(epoch);
    }
}
