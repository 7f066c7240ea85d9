package io.asfc.agent.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.asfc.common.zk.ZkException;
import org.slf4j.Marker;

/**
 * Drops what Curator logs at ERROR when ZooKeeper is merely away: a background retry that gave up
 * on a lost connection or session, and the leader latch finding its node gone with the expired
 * session. Both are expected in an outage; the agent logs the outage itself
 * ({@code io.asfc.agent.zk.ConnectionLog}) and what it does about it. Anything else Curator logs passes.
 */
public final class ExpectedSessionLossFilter extends TurboFilter {
    private static final String CURATOR = "org.apache.curator";
    private static final String LATCH_NODE_GONE = "failed to find our node";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level != Level.ERROR || logger == null || !logger.getName().startsWith(CURATOR)) {
            return FilterReply.NEUTRAL;
        }
        Throwable thrown = t != null ? t : lastThrowable(params);
        if (thrown != null && ZkException.isConnectionLoss(thrown)) {
            return FilterReply.DENY;
        }
        if (format != null && format.contains(LATCH_NODE_GONE)) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }

    private static Throwable lastThrowable(Object[] params) {
        return params != null && params.length > 0 && params[params.length - 1] instanceof Throwable thrown
                ? thrown
                : null;
    }
}
