package io.asfc.common.concurrent;

/**
 * The states of a long-lived component, held in an {@code AtomicReference}: {@code start()} moves
 * LATENT → STARTED once; {@code close()} moves STARTED → CLOSED and is idempotent.
 */
public enum Lifecycle {
    LATENT,
    STARTED,
    CLOSED
}
