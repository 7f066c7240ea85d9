package io.asfc.agent.upgrade;

import static org.awaitility.Awaitility.await;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: captures the records this version writes, as fixtures for the next version's readers
 * (docs/UPGRADE.md, "Capturing fixtures"). Runs only with {@code -Dasfc.fixtures.out=DIR}: two real
 * agents lead, run a stand-in scheduler and answer a cordon request; every znode is then copied
 * byte for byte into DIR. The records of states that pass too quickly to catch (a move under way,
 * a quarantine, a pending failover request) are encoded by this version's own {@link Json}.
 */
@EnabledIfSystemProperty(named = "asfc.fixtures.out", matches = ".+")
class SchemaFixtureCapture {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Instant AT = Instant.parse("2026-12-07T12:00:00Z");

    @TempDir
    Path dir;

    @Test
    void captureEveryRecord() throws Exception {
        Path out = Files.createDirectories(Path.of(System.getProperty("asfc.fixtures.out")));
        try (TestingServer server = new TestingServer(true);
                TestAgents agents = new TestAgents(dir, server.getConnectString())) {
            ZkPaths paths = agents.paths();
            CuratorFramework zk = agents.observer();
            agents.start("a");
            await().atMost(WAIT).until(() -> agents.soleActive().equals(Optional.of("a")));
            agents.start("b");
            await().atMost(WAIT)
                    .until(() -> agents.agentRecord("a")
                                    .map(r -> r.scheduler().running())
                                    .orElse(false)
                            && agents.agentRecord("b").isPresent());
            ControlWriter.update(
                    zk,
                    paths,
                    c -> c.withNodeRequest(
                            ControlRecord.CORDON, "c", "r-1", Instant.now(), Duration.ofMinutes(1), "alice@ops"));
            await().atMost(WAIT)
                    .until(() -> agents.control().map(ControlRecord::answered).orElse(false)
                            && zk.checkExists().forPath(paths.node("c")) != null);

            copy(zk, paths.active(), out.resolve("active.json"));
            copy(zk, paths.epoch(), out.resolve("epoch.json"));
            copy(zk, paths.scheduler(), out.resolve("scheduler.json"));
            copy(zk, paths.control(), out.resolve("control-answered.json"));
            copy(zk, paths.agent("a"), out.resolve("agent-active.json"));
            copy(zk, paths.agent("b"), out.resolve("agent-standby.json"));
            copy(zk, paths.node("c"), out.resolve("node-cordoned.json"));
            List<String> events = zk.getChildren().forPath(paths.events());
            copy(
                    zk,
                    paths.events() + "/" + events.stream().sorted().findFirst().orElseThrow(),
                    out.resolve("event.json"));
        }
        Files.write(
                out.resolve("scheduler-moving.json"),
                Json.encode(Assignment.moving("a", "b", "r-2", 3, AT, "failover to b requested by alice@ops")));
        Files.write(
                out.resolve("node-quarantined.json"),
                Json.encode(new NodeRecord("d", false, 0, null, null)
                        .quarantine(3, "failed 3 times in a row", AT, Duration.ofSeconds(30), 1)));
        Files.write(
                out.resolve("control-failover-pending.json"),
                Json.encode(ControlRecord.NONE.withRequest("b", "r-2", AT, Duration.ofMinutes(2))));
    }

    private static void copy(CuratorFramework zk, String path, Path file) throws Exception {
        Files.write(file, zk.getData().forPath(path));
    }
}
