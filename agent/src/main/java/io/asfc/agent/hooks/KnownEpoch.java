package io.asfc.agent.hooks;

import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The newest leadership epoch this agent has seen: its own lease's, or the one in an assignment it
 * read. Only for telling hooks; never a decision (fenced writes decide).
 */
public final class KnownEpoch {
    private static final long NONE = -1;
    private final AtomicLong newest = new AtomicLong(NONE);

    /** This agent saw {@code epoch}; an older one than already seen changes nothing. */
    public void seen(long epoch) {
        newest.accumulateAndGet(epoch, Math::max);
    }

    public OptionalLong current() {
        long value = newest.get();
        return value == NONE ? OptionalLong.empty() : OptionalLong.of(value);
    }
}
