package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.utils.CloseableUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The self-fence alone, driven by connection states handed to its listener, against a client that
 * never connects (as a cut-off host's) and a runner whose start blocks.
 */
class SelfFenceTest {
    private static final Duration AFTER = Duration.ofMillis(300);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(1);

    private final BlockingQueue<Duration> stops = new LinkedBlockingQueue<>();
    private final CountDownLatch startMayReturn = new CountDownLatch(1);
    private final AtomicInteger reconnects = new AtomicInteger();
    private final SupervisionState state = new SupervisionState();

    private CuratorFramework client;
    private EventLog events;
    private SelfFence fence;

    @BeforeEach
    void start() {
        client = CuratorFrameworkFactory.newClient("127.0.0.1:1", 30_000, 1_000, new RetryOneTime(10));
        client.start();
        events = new EventLog(client, new ZkPaths("/airflow/failover", "default"), "a", 100, Clock.systemUTC());
        fence = newFence(AFTER);
    }

    private SelfFence newFence(Duration after) {
        Metrics metrics = new Metrics("a", "default", "test", Map.of(), System::nanoTime);
        SelfFence f = new SelfFence(
                client,
                "a",
                after,
                STOP_TIMEOUT,
                new BlockingStartRunner(),
                state,
                events,
                metrics,
                System::nanoTime,
                reconnects::incrementAndGet);
        f.start();
        return f;
    }

    @AfterEach
    void stop() {
        startMayReturn.countDown();
        fence.close();
        events.close();
        CloseableUtils.closeQuietly(client);
    }

    @Test
    void firesAfterSelfFenceAfterAndStopsWhileAStartBlocks() throws Exception {
        Thread starter = new Thread(() -> {
            try {
                new BlockingStartRunner().start();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        starter.start();
        state.expectRunning(true);

        fence.connectionChanged(client, ConnectionState.SUSPENDED);

        assertEquals(STOP_TIMEOUT, stops.poll(10, TimeUnit.SECONDS), "stopped with self-fence-stop-timeout");
        await().atMost(Duration.ofSeconds(5)).until(() -> !state.stopping()); // the stop returned
        assertTrue(starter.isAlive(), "the start still blocks: the self-fence did not wait for it");
        assertEquals(1, state.selfFences(), "a start that saw this stops what it started");
        assertFalse(state.expectRunning());
        startMayReturn.countDown();
        starter.join(5_000);
    }

    @Test
    void aReconnectionBeforeSelfFenceAfterCancelsIt() throws Exception {
        fence.connectionChanged(client, ConnectionState.SUSPENDED);
        assertTrue(state.suspended());
        fence.connectionChanged(client, ConnectionState.RECONNECTED);

        assertNull(stops.poll(AFTER.multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS));
        assertFalse(state.suspended());
        assertEquals(0, state.selfFences());
        assertEquals(1, reconnects.get());
        assertEquals(2, state.connectionGeneration(), "every change is a new connection generation");
    }

    @Test
    void aLostSessionFencesAtOnceAndTheEventIsQueuedOnceReconnected() throws Exception {
        // self-fence-after of an hour: a stop within the test's patience proves the LOST fence did not wait for it,
        // with no wall-clock bound a loaded machine could miss
        fence.close();
        fence = newFence(Duration.ofHours(1));
        fence.connectionChanged(client, ConnectionState.LOST);
        assertNotNull(stops.poll(30, TimeUnit.SECONDS), "no wait for self-fence-after");
        await().atMost(Duration.ofSeconds(5)).until(() -> !state.stopping()); // the stop returned

        fence.connectionChanged(client, ConnectionState.RECONNECTED);
        fence.recordIfFenced();
        fence.recordIfFenced();
        assertEquals(1, events.pending(), "self-fenced, once");
    }

    /** Start blocks until the test lets it return; every stop is recorded and ends one process. */
    private final class BlockingStartRunner implements SchedulerRunner {
        @Override
        public LocalStatus status() {
            return LocalStatus.NOT_RUNNING;
        }

        @Override
        public void start() throws InterruptedException {
            startMayReturn.await();
        }

        @Override
        public TreeStopper.Result stop() {
            return stop(Duration.ZERO);
        }

        @Override
        public TreeStopper.Result stop(Duration grace) {
            stops.add(grace);
            return new TreeStopper.Result(1, 0, List.of());
        }
    }
}
