package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.process.TreeStopper;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The deadman is renewed only on proof that ZooKeeper answers (the simulator's finding F1): during a
 * silent partition the client still believes it is connected for 2/3 of the session timeout, and a
 * feeder that renewed on "connected" would push the deadman that much past the S4 budget.
 */
class DeadmanFeederTest {
    private TestingServer server;
    private ZkProxy proxy;
    private CuratorFramework client;
    private DeadmanFeeder feeder;
    private final AtomicInteger renewals = new AtomicInteger();

    /** Counts renewals; nothing else is asked of it. */
    private final SchedulerRunner counting = new SchedulerRunner() {
        @Override
        public LocalStatus status() {
            return LocalStatus.NOT_RUNNING;
        }

        @Override
        public void start() {}

        @Override
        public TreeStopper.Result stop() {
            return new TreeStopper.Result(0, 0, List.of());
        }

        @Override
        public TreeStopper.Result stop(Duration grace) {
            return stop();
        }

        @Override
        public void renew() {
            renewals.incrementAndGet();
        }
    };

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        proxy = new ZkProxy(server.getPort());
        client = CuratorFrameworkFactory.newClient(proxy.connectString(), 9_000, 3_000, new RetryOneTime(100));
        client.start();
        client.blockUntilConnected();
        feeder = new DeadmanFeeder("a", counting, client, "/", Duration.ofSeconds(1));
        feeder.start();
    }

    @AfterEach
    void stop() throws Exception {
        feeder.close();
        client.close();
        proxy.close();
        server.close();
    }

    @Test
    void renewsOnlyWhileZooKeeperAnswersNotWhileTheClientMerelyBelievesItIsConnected() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> renewals.get() >= 5); // every 100 ms

        proxy.latency(Duration.ofSeconds(60)); // a silent partition: nothing arrives, nothing is refused
        Thread.sleep(300); // the fault's timing: an answer already on its way may still arrive
        int atCut = renewals.get();

        // 2 s = 20 renewal periods later the client still believes it is connected (SUSPENDED comes
        // after 2/3 x 9 s), and not one renewal went out
        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(3))
                .until(() ->
                        renewals.get() == atCut && client.getZookeeperClient().isConnected());

        proxy.latency(Duration.ZERO);
        await().atMost(Duration.ofSeconds(15)).until(() -> renewals.get() > atCut + 3);
        assertTrue(client.getZookeeperClient().isConnected());
    }
}
