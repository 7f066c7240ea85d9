package io.asfc.agent.election;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.agent.zk.ZkClients;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.curator.utils.CloseableUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** S2: only the current leader's fenced writes succeed, and leadership intervals never overlap. */
class FencingTest {
    private static final String PROBE = "/fencing-probe";

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents settings;
    private final List<Participant> participants = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        settings = new TestAgents(dir, server.getConnectString());
        settings.observer().create().forPath(PROBE);
    }

    @AfterEach
    void stop() throws Exception {
        participants.forEach(CloseableUtils::closeQuietly);
        settings.close();
        server.close();
    }

    @Test
    void deposedLeaderWriteIsRejected() throws Exception {
        Participant a = participant("a");
        await().atMost(Duration.ofSeconds(10)).until(a.election::isActive);
        Lease stale = a.election.lease().orElseThrow();
        Participant b = participant("b");

        a.proxy.cut(); // a's session expires while it still holds its lease object
        await().atMost(Duration.ofSeconds(15)).until(b.election::isActive);
        a.proxy.restore();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> a.client.getZookeeperClient().isConnected());

        String before = new String(settings.observer().getData().forPath(PROBE), StandardCharsets.UTF_8);
        LeadershipLostException refused =
                assertThrows(LeadershipLostException.class, () -> a.write(stale, "from deposed a"));
        assertTrue(refused.getMessage().contains("epoch " + stale.epoch()), refused.getMessage());
        assertEquals(
                before,
                new String(settings.observer().getData().forPath(PROBE), StandardCharsets.UTF_8),
                "the refused write must have left the znode as it was");
        b.write(b.election.lease().orElseThrow(), "from b");
        assertEquals("from b", new String(settings.observer().getData().forPath(PROBE), StandardCharsets.UTF_8));
    }

    @Test
    void leadershipHistoryNeverOverlapsEvenWithAPausedLeader() throws Exception {
        ConcurrentLinkedQueue<Write> history = new ConcurrentLinkedQueue<>();
        for (String node : List.of("a", "b", "c")) {
            participants.add(new Participant(node, history));
        }
        participants.forEach(Participant::startWriting);

        for (int round = 0; round < 3; round++) {
            Participant leader = awaitLeader();
            CountDownLatch resume = leader.pauseWithLease(); // its action thread now holds a lease and waits
            leader.proxy.cut();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> participants.stream().anyMatch(p -> p != leader && p.election.isActive()));
            long before =
                    history.stream().filter(w -> w.node.equals(leader.node)).count();
            leader.proxy.restore(); // like SIGCONT: the network is back, the session is long gone
            resume.countDown(); // the paused thread writes with its stale lease: must be refused
            await().atMost(Duration.ofSeconds(15)).until(() -> leader.staleAttempts.get() != null);
            assertEquals(Boolean.FALSE, leader.staleAttempts.get(), "a stale lease must not write");
            // An exception does not prove that nothing was written (a ConnectionLoss can hide an applied write):
            // the znode the stale write would have created must not exist.
            String stale = leader.stalePath.get();
            assertNull(
                    settings.observer().checkExists().forPath(stale),
                    "the stale write of " + leader.node + " failed with " + leader.staleError.get()
                            + ", yet it was applied: " + stale + " exists");
            assertEquals(
                    before,
                    history.stream().filter(w -> w.node.equals(leader.node)).count());
        }
        awaitLeader();

        assertNoOverlap(new ArrayList<>(history));
    }

    /** Each epoch belongs to one node, and its writes all come before the next epoch's first write. */
    private static void assertNoOverlap(List<Write> writes) {
        Map<Long, List<Write>> byEpoch = new TreeMap<>(writes.stream().collect(Collectors.groupingBy(w -> w.epoch)));
        assertTrue(byEpoch.size() >= 4, "expected several leaderships, got epochs " + byEpoch.keySet());
        long previousEnd = Long.MIN_VALUE;
        for (Map.Entry<Long, List<Write>> e : byEpoch.entrySet()) {
            List<Write> ws = e.getValue();
            assertEquals(1, ws.stream().map(w -> w.node).distinct().count(), "epoch " + e.getKey() + ": " + ws);
            long start = ws.stream().mapToLong(w -> w.startNanos).min().orElseThrow();
            long end = ws.stream().mapToLong(w -> w.endNanos).max().orElseThrow();
            if (start < previousEnd) {
                fail("epoch " + e.getKey() + " began writing before the previous epoch's last write ended");
            }
            previousEnd = end;
        }
    }

    private Participant awaitLeader() {
        AtomicReference<Participant> leader = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            List<Participant> active =
                    participants.stream().filter(p -> p.election.isActive()).toList();
            leader.set(active.size() == 1 ? active.get(0) : null);
            return leader.get() != null;
        });
        return leader.get();
    }

    private Participant participant(String node) throws Exception {
        Participant p = new Participant(node, new ConcurrentLinkedQueue<>());
        participants.add(p);
        return p;
    }

    private record Write(String node, long epoch, long startNanos, long endNanos) {}

    /** One election participant with its own client behind a cuttable proxy, and a writer thread. */
    private final class Participant implements Closeable {
        final String node;
        final ZkProxy proxy;
        final CuratorFramework client;
        final Election election;
        final FencedWriter writer;
        final EventLog events;
        final ConcurrentLinkedQueue<Write> history;
        final AtomicReference<Boolean> staleAttempts = new AtomicReference<>();
        /** The znode the paused (stale) write creates: durable, so a test can tell whether it was applied. */
        final AtomicReference<String> stalePath = new AtomicReference<>();

        final AtomicReference<Exception> staleError = new AtomicReference<>();
        final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor();
        volatile CountDownLatch pause;
        volatile CountDownLatch held = new CountDownLatch(0);

        Participant(String node, ConcurrentLinkedQueue<Write> history) throws Exception {
            this.node = node;
            this.history = history;
            this.proxy = new ZkProxy(server.getPort());
            var zk = settings.settings(node, proxy.connectString()).zookeeper();
            this.client = ZkClients.start(zk, node);
            ZkClients.awaitConnected(client, zk);
            ZkPaths paths = settings.paths();
            this.writer = new FencedWriter(client, paths);
            this.events = new EventLog(client, paths, node, 100, Clock.systemUTC());
            events.start();
            this.election = new Election(
                    client,
                    paths,
                    node,
                    writer,
                    events,
                    new Metrics(settings.settings(node, proxy.connectString()), "test", System::nanoTime),
                    Clock.systemUTC());
            election.start();
        }

        void write(Lease lease, String text) throws Exception {
            writer.commit(lease, List.of(writer.ops().setData().forPath(PROBE, text.getBytes(StandardCharsets.UTF_8))));
        }

        void startWriting() {
            worker.scheduleWithFixedDelay(this::act, 0, 20, TimeUnit.MILLISECONDS);
        }

        /**
         * The next action takes the lease, then blocks until the returned latch opens. Returns once
         * the action thread holds a lease and is blocked.
         */
        CountDownLatch pauseWithLease() throws InterruptedException {
            CountDownLatch resume = new CountDownLatch(1);
            staleAttempts.set(null);
            held = new CountDownLatch(1);
            pause = resume;
            assertTrue(held.await(10, TimeUnit.SECONDS), node + " never paused holding a lease");
            return resume;
        }

        private void act() {
            Optional<Lease> lease = election.lease();
            if (lease.isEmpty()) {
                return;
            }
            CountDownLatch paused = pause;
            try {
                if (paused != null) {
                    pause = null;
                    held.countDown();
                    paused.await();
                }
                long start = System.nanoTime();
                if (paused != null) {
                    String path = PROBE + "/stale-" + node + "-" + lease.get().epoch() + "-" + start;
                    stalePath.set(path);
                    writer.commit(lease.get(), List.of(writer.ops().create().forPath(path)));
                } else {
                    write(lease.get(), node + "@" + lease.get().epoch());
                }
                history.add(new Write(node, lease.get().epoch(), start, System.nanoTime()));
                if (paused != null) {
                    staleAttempts.set(Boolean.TRUE);
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (paused != null) {
                    // refused, or a connection error: the test reads the znode back to tell whether it was applied
                    staleError.set(e);
                    staleAttempts.set(Boolean.FALSE);
                }
            }
        }

        @Override
        public void close() {
            worker.shutdownNow();
            CloseableUtils.closeQuietly(election);
            CloseableUtils.closeQuietly(events);
            CloseableUtils.closeQuietly(client);
            CloseableUtils.closeQuietly(proxy);
        }
    }
}
