package io.asfc.agent.metrics;

import static org.awaitility.Awaitility.await;

import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The assignment and quarantine gauges follow the znodes, whoever writes them. */
class ClusterWatchTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ZkPaths paths = new ZkPaths("/airflow/failover", "default");
    private final Metrics metrics = new Metrics(
            "a",
            "default",
            "1.0",
            List.of("a", "b"),
            Map.of(Loop.SUPERVISOR, Duration.ofSeconds(30)),
            System::nanoTime);
    private TestingServer server;
    private CuratorFramework client;
    private ClusterWatch watch;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        client = CuratorFrameworkFactory.newClient(server.getConnectString(), 10_000, 5_000, new RetryOneTime(100));
        client.start();
        watch = new ClusterWatch(client, paths, metrics);
        watch.start();
    }

    @AfterEach
    void stop() throws Exception {
        watch.close();
        client.close();
        server.close();
    }

    @Test
    void gaugesFollowTheSchedulerZnodeAndTheNodeRecords() throws Exception {
        client.create()
                .creatingParentsIfNeeded()
                .forPath(paths.scheduler(), Json.encode(Assignment.to("b", 3, Instant.now(), "test")));
        client.create()
                .creatingParentsIfNeeded()
                .forPath(paths.node("a"), Json.encode(new NodeRecord("a", true, 3, "failed", Instant.now())));

        await().atMost(WAIT)
                .until(() -> value("asfc_scheduler_assigned{node=\"b\"}") == 1
                        && value("asfc_node_quarantined{node=\"a\"}") == 1);

        client.setData()
                .forPath(paths.scheduler(), Json.encode(Assignment.moving("b", "a", null, 3, Instant.now(), "moving")));
        client.delete().forPath(paths.node("a"));

        await().atMost(WAIT)
                .until(() -> value("asfc_scheduler_moving") == 1
                        && value("asfc_scheduler_assigned{node=\"b\"}") == 0
                        && value("asfc_node_quarantined{node=\"a\"}") == 0);

        client.setData().forPath(paths.scheduler(), Json.encode(Assignment.to("a", 3, Instant.now(), "moved")));
        await().atMost(WAIT).until(() -> value("asfc_scheduler_assigned{node=\"a\"}") == 1);
        client.setData().forPath(paths.scheduler(), "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        await().atMost(WAIT) // garbled: shown as no node, as nobody may run it until the leader rewrites it
                .until(() -> value("asfc_scheduler_moving") == 1 && value("asfc_scheduler_assigned{node=\"a\"}") == 0);
    }

    private double value(String series) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create()
                .write(out, metrics.registry().scrape());
        return new MetricsPage(out.toString(java.nio.charset.StandardCharsets.UTF_8)).value(series);
    }
}
