package io.asfc.agent.supervisor;

import java.time.Instant;

/**
 * What a runner sees of the local scheduler.
 *
 * @param pid the main process, when known (null e.g. for a check-command without pid file)
 * @param since when it was started or first seen running, when known
 */
public record LocalStatus(boolean running, Long pid, Instant since) {
    public static final LocalStatus NOT_RUNNING = new LocalStatus(false, null, null);
}
