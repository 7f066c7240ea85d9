package io.asfc.agent.upgrade;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.SchemaVersion;
import io.asfc.common.zk.ZkPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that meets a record of a newer major schema (written by an agent of a later asfc)
 * refuses to become ACTIVE and says so, and never acts on that record: docs/UPGRADE.md. Real agents
 * and an in-process ZooKeeper.
 */
class NewerSchemaTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How long a refusal (or a held scheduler) must last to count: several checks and heartbeats. */
    private static final Duration HOLDS_FOR = Duration.ofSeconds(4);

    private static final SchemaVersion NEXT_MAJOR = new SchemaVersion(SchemaVersion.CURRENT.major() + 1, 0);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private ZkPaths paths;
    private CuratorFramework zk;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        paths = agents.paths();
        zk = agents.observer();
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        server.close();
    }

    @Test
    void anAgentThatMeetsANewerMajorRefusesToBecomeActiveAndSaysSo() throws Exception {
        zk.create().creatingParentsIfNeeded().forPath(paths.agent("z"), newerMajor(agentRecord("z")));

        agents.start("a");

        await().during(HOLDS_FOR).atMost(WAIT).until(() -> agents.active().isEmpty() && agents.candidates() == 0);
        await().atMost(WAIT).until(() -> events("newer-schema").stream()
                .anyMatch(e -> e.node().equals("a") && e.detail().contains(paths.agent("z"))));
        assertEquals(
                Optional.of(AgentRecord.Role.STANDBY), agents.agentRecord("a").map(AgentRecord::role));

        zk.delete().forPath(paths.agent("z")); // the newer agent is gone (e.g. rolled back)

        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("a")));
    }

    @Test
    void anActiveAgentStepsDownWhenAnAgentOfANewerMajorJoins() throws Exception {
        agents.start("a");
        await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("a")));
        agents.start("b");
        await().atMost(WAIT).until(() -> agents.candidates() == 2);

        zk.create().forPath(paths.agent("z"), newerMajor(agentRecord("z")));

        await().atMost(WAIT).until(() -> agents.active().isEmpty() && agents.candidates() == 0);
        await().during(HOLDS_FOR)
                .atMost(WAIT)
                .until(() -> agents.active().isEmpty()
                        && agents.published().stream().noneMatch(r -> r.role() == AgentRecord.Role.ACTIVE));
    }

    /**
     * S1 with a newer major's assignment: a (running the scheduler) and b (named by it) hold what
     * they have. a does not stop it (no restart) and does not report it has seen the assignment
     * ({@code observed}), so no leader could take its silence as proof that it stopped; b does not
     * start a second one.
     */
    @Test
    void anAssignmentOfANewerMajorIsNeitherStartedOnNorStoppedFor() throws Exception {
        agents.start("a");
        await().atMost(WAIT).until(() -> agents.agentRecord("a")
                .map(r -> r.scheduler().running())
                .orElse(false));
        agents.start("b");
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
        long pid = agents.agentRecord("a").orElseThrow().scheduler().pid();
        long observed = agents.agentRecord("a").orElseThrow().scheduler().observed();

        long epoch = agents.epoch();
        zk.setData().forPath(paths.scheduler(), newerMajor(Assignment.to("b", epoch, Instant.now(), "newer")));

        await().during(HOLDS_FOR).atMost(WAIT).until(() -> {
            AgentRecord a = agents.agentRecord("a").orElseThrow();
            AgentRecord b = agents.agentRecord("b").orElseThrow();
            return a.scheduler().running()
                    && a.scheduler().pid() == pid
                    && a.scheduler().observed() == observed
                    && !b.scheduler().running()
                    && !Boolean.TRUE.equals(b.scheduler().starting());
        });
        assertTrue(agents.active().isEmpty(), "an agent became ACTIVE over a newer major's assignment");
    }

    /** {@code record} as an agent of the next major schema would write it. */
    private static byte[] newerMajor(Object record) {
        try {
            ObjectNode tree = (ObjectNode) Json.mapper().readTree(Json.encode(record));
            tree.put(SchemaVersion.FIELD, NEXT_MAJOR.toString());
            return Json.mapper().writeValueAsBytes(tree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static AgentRecord agentRecord(String node) {
        return new AgentRecord(
                node,
                "host-" + node,
                1,
                "9.0.0",
                AgentRecord.Role.STANDBY,
                AgentRecord.SchedulerState.STOPPED,
                new AgentRecord.Heartbeat(1, Instant.now()),
                Instant.now());
    }

    private List<EventRecord> events(String type) throws Exception {
        List<EventRecord> found = new ArrayList<>();
        try {
            for (String child : zk.getChildren().forPath(paths.events())) {
                String path = paths.events() + "/" + child;
                Json.decode(path, zk.getData().forPath(path), EventRecord.class)
                        .filter(e -> e.type().equals(type))
                        .ifPresent(found::add);
            }
        } catch (KeeperException.NoNodeException e) {
            // no event yet
        }
        return found;
    }
}
