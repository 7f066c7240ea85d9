package io.asfc.agent.cluster;

/** A znode kept changing between our read and our versioned write; the caller may try again. */
public final class ConcurrentChangeException extends RuntimeException {
    public ConcurrentChangeException(String message) {
        super(message);
    }
}
