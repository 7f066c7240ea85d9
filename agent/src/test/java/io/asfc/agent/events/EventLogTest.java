package io.asfc.agent.events;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingServer;
import org.apache.curator.utils.CloseableUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The event log queues: recording never waits on ZooKeeper, and one thread writes in order. */
class EventLogTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final ZkPaths paths = new ZkPaths("/airflow/failover", "default");

    private TestingServer server;
    private CuratorFramework client;
    private EventLog log;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        // the retries of one call add up to seconds while the server is away, as in the agent
        client = CuratorFrameworkFactory.newClient(server.getConnectString(), 30_000, 5_000, new RetryNTimes(3, 1000));
        client.start();
        client.blockUntilConnected();
    }

    @AfterEach
    void stop() throws Exception {
        CloseableUtils.closeQuietly(log);
        CloseableUtils.closeQuietly(client);
        server.close();
    }

    @Test
    void recordReturnsAtOnceWhileZooKeeperIsAwayAndTheEventsAreWrittenInOrderWhenItIsBack() throws Exception {
        log = new EventLog(client, paths, "a", 1000, Clock.systemUTC());
        log.start();
        server.stop();
        await().atMost(WAIT).until(() -> !client.getZookeeperClient().isConnected());

        // a blocking write would take seconds for each event here
        assertTimeoutPreemptively(
                Duration.ofSeconds(2), () -> IntStream.range(0, 50).forEach(i -> log.record("test", "event " + i)));

        server.restart();
        await().atMost(WAIT).ignoreExceptions().until(() -> details().size() == 50);
        assertEquals(IntStream.range(0, 50).mapToObj(i -> "event " + i).toList(), details());
    }

    @Test
    void aFullQueueDropsTheOldestEvents() {
        log = new EventLog(client, paths, "a", 1000, Clock.systemUTC(), 3);
        for (int i = 0; i < 5; i++) {
            log.record("test", "event " + i); // not started yet: they wait in the queue
        }
        assertEquals(3, log.pending());
        assertEquals(2, log.dropped());

        log.start();
        await().atMost(WAIT).until(() -> details().size() == 3);
        assertEquals(List.of("event 2", "event 3", "event 4"), details());
        assertEquals(0, log.dropped(), "counted until the next write succeeds");
    }

    @Test
    void closeWritesWhatIsQueuedAndLaterEventsAreOnlyLogged() {
        log = new EventLog(client, paths, "a", 1000, Clock.systemUTC());
        for (int i = 0; i < 20; i++) {
            log.record("test", "event " + i);
        }
        log.start();
        log.close();
        log.close(); // idempotent
        assertEquals(20, details().size());

        log.record("test", "after close");
        assertEquals(0, log.pending());
        assertEquals(20, details().size());
    }

    @Test
    void closeGivesUpWithinItsBoundWhileZooKeeperIsAway() throws Exception {
        log = new EventLog(client, paths, "a", 1000, Clock.systemUTC());
        log.start();
        server.stop();
        await().atMost(WAIT).until(() -> !client.getZookeeperClient().isConnected());
        log.record("test", "never written");

        assertTimeoutPreemptively(EventLog.FLUSH_BOUND.plusSeconds(3), log::close);
    }

    @Test
    void trimsToTheNewestRetained() {
        log = new EventLog(client, paths, "a", 5, Clock.systemUTC());
        log.start();
        for (int i = 0; i < 12; i++) {
            log.record("test", "event " + i);
        }
        List<String> newest = List.of("event 7", "event 8", "event 9", "event 10", "event 11");
        await().atMost(WAIT).until(() -> details().equals(newest));
    }

    /** The stored events' details, oldest first. */
    private List<String> details() {
        List<String> newestFirst =
                log.recent(1000).stream().map(s -> s.event().detail()).collect(Collectors.toCollection(ArrayList::new));
        Collections.reverse(newestFirst);
        return newestFirst;
    }
}
