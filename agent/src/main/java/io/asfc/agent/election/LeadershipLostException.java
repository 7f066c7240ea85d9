package io.asfc.agent.election;

/** A fenced write was refused because the lease no longer holds: another leader, or none. */
public final class LeadershipLostException extends RuntimeException {
    public LeadershipLostException(String message) {
        super(message);
    }
}
