package io.asfc.agent.membership;

/** Another live agent already uses this node id in the cluster; this agent must not start. */
public final class DuplicateNodeIdException extends RuntimeException {
    public DuplicateNodeIdException(String message) {
        super(message);
    }
}
