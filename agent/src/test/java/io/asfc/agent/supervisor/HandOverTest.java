package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.events.EventLog;
import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.AgentRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hand-over of a rolling upgrade ({@code bin/asfc-agent restart --hand-over}, docs/UPGRADE.md), with real agent
 * processes: the agent that runs the scheduler (and leads) stops, and the next agent of its node resumes its
 * ZooKeeper session and adopts the running scheduler and its on-host deadman. The scheduler is never restarted,
 * never moved, and never runs twice; when the next agent comes too late, the deadman has stopped the scheduler before
 * the cluster moved it, and the late agent adopts nothing.
 */
class HandOverTest {
    /** Long enough for a JVM to start on a loaded machine within the deadman's timeout (2/3 x 10 s + 5 s). */
    private static final Duration SESSION = Duration.ofSeconds(10);

    private static final Duration WAIT = Duration.ofSeconds(60);

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString(), SESSION);
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

    /**
     * The holder's agent (also ACTIVE) hands over and the next agent adopts the scheduler. Then that agent hands over
     * in turn, and no agent comes in time: the adopted deadman stops the scheduler at its deadline, before b takes
     * over, and the agent that finally comes adopts nothing. In command mode; child mode's hand-over runs in
     * {@code HandOverConfigChangeTest} (adoption, then the adopted watchdog stops a frozen agent's scheduler in time;
     * a watchdog with longer timeouts is not adopted), {@code DeadmanHandOverTest} (the watchdog's side), and with
     * {@code bin/asfc-agent restart --hand-over} in {@code RollingUpgradeIT} and the proving ground.
     */
    @Test
    void theHoldersAgentIsReplacedWithNoSchedulerRestartAndALateOneAdoptsNothing() throws Exception {
        try (OverlapObserver overlap = new OverlapObserver(standIn)) {
            AgentProcess a = agents.startProcess("a", server.getConnectString(), config("a"));
            await().atMost(WAIT).until(() -> running("a"));
            agents.startProcess("b", server.getConnectString(), config("b"));
            await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
            long scheduler = await().atMost(WAIT)
                    .until(
                            () -> agents.agentRecord("a")
                                    .map(r -> r.scheduler().pid())
                                    .orElse(null),
                            Objects::nonNull);
            long session = stat(agents.paths().agent("a")).getEphemeralOwner();

            a.handOver();
            assertTrue(Files.exists(dir.resolve("run/hand-over-a.json")), "the leaving agent wrote the hand-over file");
            AgentProcess next = agents.startProcess("a", server.getConnectString(), config("a"));

            try {
                await("the next agent reports the same scheduler").atMost(WAIT).until(() -> agents.agentRecord("a")
                        .filter(r -> r.pid() == next.pid())
                        .map(AgentRecord::scheduler)
                        .filter(s -> s.running() && s.pid() == scheduler)
                        .isPresent());
            } catch (ConditionTimeoutException e) {
                throw new AssertionError(
                        e.getMessage() + "\nleaving agent:\n" + a.output() + "\nnext agent:\n" + next.output());
            }
            assertTrue(alive(scheduler), "the scheduler was never stopped");
            assertEquals(session, stat(agents.paths().agent("a")).getEphemeralOwner(), "the session was resumed");
            // b became ACTIVE when a handed leadership over, and stamped the assignment with its epoch: same node.
            assertEquals("a", agents.assignment().orElseThrow().node(), "the scheduler was not moved");
            assertEquals(1, count("scheduler-moved"), "only the initial assignment moved it: " + events());
            assertFalse(Files.exists(dir.resolve("run/hand-over-a.json")), "the hand-over file is used once");
            assertTrue(hasEvent("agent-handing-over", "a stopped for a hand-over"));
            assertTrue(hasEvent("agent-started", "took over the ZooKeeper session and the running scheduler"));
            assertEquals(1, count("scheduler-started"), "one start, before the hand-over");
            assertTrue(next.output().contains("hand-over: resumed ZooKeeper session"), next.output());

            // The adopted deadman is handed over again, and no agent comes: it stops the scheduler at its deadline,
            // before the session expires and b takes over.
            next.handOver();
            await().atMost(WAIT).until(() -> running("b"));
            assertFalse(alive(scheduler), "the deadman stopped the scheduler it waited with");
            assertTrue(
                    Files.readString(dir.resolve("logs/scheduler-a.out.deadman"))
                            .contains("no new agent adopted the scheduler after a hand-over"),
                    "the deadman says why it stopped");

            AgentProcess late = agents.startProcess("a", server.getConnectString(), config("a"));
            await().atMost(WAIT).until(() -> agents.agentRecord("a")
                    .filter(r -> r.pid() == late.pid())
                    .isPresent());
            assertFalse(running("a"), "the late agent adopted nothing");
            assertEquals("b", agents.assignment().orElseThrow().node(), () -> events() + "\n" + late.output());
            overlap.verify();
        }
    }

    private String config(String node) {
        String common = StandIn.FAST_TIMINGS + "\nasfc.nodes = [a, b]\nasfc.controller.takeover-grace = 4s\n";
        Path pidFile = dir.resolve("scheduler-" + node + ".pid");
        return common
                + standIn.commandMode(
                        node, pidFile, standIn.daemon(node, pidFile, "--lifetime-lock " + standIn.lifetimeLock()));
    }

    private boolean running(String node) throws Exception {
        return agents.agentRecord(node).map(r -> r.scheduler().running()).orElse(false);
    }

    private Stat stat(String path) throws Exception {
        return agents.observer().checkExists().forPath(path);
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private List<EventLog.Stored> events() {
        return new EventLog(agents.observer(), agents.paths(), "observer", 1000, Clock.systemUTC()).recent(1000);
    }

    private boolean hasEvent(String type, String detailPart) {
        return events().stream()
                .anyMatch(
                        e -> e.event().type().equals(type) && e.event().detail().contains(detailPart));
    }

    private long count(String type) {
        return events().stream().filter(e -> e.event().type().equals(type)).count();
    }
}
