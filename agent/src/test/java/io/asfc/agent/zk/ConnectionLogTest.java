package io.asfc.agent.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.state.ConnectionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ConnectionLogTest {
    /** A System.nanoTime() of a host up for 17 hours: the clock counts from its boot, not from zero at start. */
    private final AtomicLong now = new AtomicLong(Duration.ofHours(17).toNanos());

    private final ConnectionLog log = new ConnectionLog("zk:2181", "a", now::get);
    private final Logger logger = (Logger) LoggerFactory.getLogger(ConnectionLog.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @BeforeEach
    void capture() {
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
        log.close();
    }

    private List<String> messages() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void anExpiryAfterALostConnectionSaysHowLongItWasLost() {
        log.stateChanged(null, ConnectionState.SUSPENDED);
        now.addAndGet(Duration.ofSeconds(12).toNanos());
        log.stateChanged(null, ConnectionState.LOST);

        assertEquals(
                "ZooKeeper session expired (12 s without a connection); a new one starts once ZooKeeper answers",
                messages().get(1));
    }

    /**
     * A thawed agent (its whole host was frozen) may hear of the expiry with no SUSPENDED before it: there was no
     * "lost" moment to count from, and the time since the host's boot is no length of an outage.
     */
    @Test
    void anExpiryWithNoLostConnectionBeforeItClaimsNoLength() {
        log.stateChanged(null, ConnectionState.LOST);

        assertEquals(List.of("ZooKeeper session expired; a new one starts once ZooKeeper answers"), messages());
    }
}
