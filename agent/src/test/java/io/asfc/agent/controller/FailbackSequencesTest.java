package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code controller.failback = to-preferred} (issue 17) with real agents, an in-process ZooKeeper and
 * stand-in schedulers: the scheduler returns to the first node of {@code nodes} once it has run healthy
 * where it is for {@code failback-after} (3 s here) and that node's agent has been live as long, never
 * while a node is cordoned, and never with two schedulers at once (the move waits for the old holder's
 * report, as {@code failover --to} does).
 */
class FailbackSequencesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration STABLE = Duration.ofSeconds(2);
    /** Well past failback-after + a heartbeat: a failback that is not held back would happen in it. */
    private static final Duration HELD = Duration.ofSeconds(8);

    private static final String CONF = StandIn.FAST_TIMINGS
            + """
            asfc.nodes = [a, b]
            asfc.controller { failback = to-preferred, failback-after = 3s }
            """;

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

    @Test
    void schedulerReturnsToThePreferredNodeOnceItRanHealthyForFailbackAfter() throws Exception {
        agents.start("b", server.getConnectString(), CONF + standIn.config("b", ""));
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "b")); // a has no agent: b runs it

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            agents.start("a", server.getConnectString(), CONF + standIn.config("a", ""));

            await().atMost(WAIT).during(STABLE).until(() -> agents.runsOnlyOn(standIn, "a"));
            assertEquals(0, observer.overlapping(), observer.describe());
        }
        List<EventRecord> failbacks = events("failback");
        assertEquals(1, failbacks.size(), failbacks.toString());
        assertTrue(failbacks.get(0).detail().startsWith("from b to a"), failbacks.toString());
    }

    @Test
    void neverWhileANodeIsCordonedThenOnceItIsUncordoned() throws Exception {
        agents.start("b", server.getConnectString(), CONF + standIn.config("b", ""));
        await().atMost(WAIT).until(() -> agents.runsOnlyOn(standIn, "b"));
        nodeRequest(ControlRecord.CORDON, "b");
        await().atMost(WAIT).until(() -> agents.control()
                .map(c -> c.result() != null && c.result().startsWith("done"))
                .orElse(false));

        try (OverlapObserver observer = new OverlapObserver(standIn)) {
            agents.start("a", server.getConnectString(), CONF + standIn.config("a", ""));
            await().atMost(HELD.plus(WAIT)).during(HELD).until(() -> agents.runsOnlyOn(standIn, "b"));

            nodeRequest(ControlRecord.UNCORDON, "b");
            await().atMost(WAIT).during(STABLE).until(() -> agents.runsOnlyOn(standIn, "a"));
            assertEquals(0, observer.overlapping(), observer.describe());
        }
        assertEquals(1, events("failback").size(), events("failback").toString());
    }

    private void nodeRequest(String op, String node) throws Exception {
        ControlWriter.update(
                agents.observer(),
                agents.paths(),
                c -> c.withNodeRequest(op, node, op + "-" + System.nanoTime(), Instant.now(), WAIT, "test"));
    }

    private List<EventRecord> events(String type) throws Exception {
        List<EventRecord> found = new ArrayList<>();
        var zk = agents.observer();
        List<String> children =
                new ArrayList<>(zk.getChildren().forPath(agents.paths().events()));
        children.sort(null);
        for (String child : children) {
            Json.decode(child, zk.getData().forPath(agents.paths().events() + "/" + child), EventRecord.class)
                    .filter(e -> e.type().equals(type))
                    .ifPresent(found::add);
        }
        return found;
    }
}
