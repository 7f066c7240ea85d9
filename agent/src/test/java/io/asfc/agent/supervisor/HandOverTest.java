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

    /**
     * {@link #aHandOverThatShortensTheSessionLeavesTheAdoptedDeadmanTooSlowForS1}: the old agent's session, 20 s:
     * deadman 2/3 x 20 s + 10 s = 23.3 s; budget 23.3 + 1 < 20 + 5.
     */
    private static final String OLD = "\nasfc.zookeeper { session-timeout = 20s, self-fence-after = 10s }\n"
            + "asfc.controller.takeover-grace = 5s\n";
    /**
     * The new agents' session: deadman 2/3 x 6 s + 1 s = 5 s; budget 5 + 1 < 6 + 5. The same takeover-grace: with
     * the old session timeout the old deadman would still fit (23.3 + 1 < 20 + 5).
     */
    private static final String NEW = "\nasfc.zookeeper { session-timeout = 6s, self-fence-after = 1s }\n"
            + "asfc.controller.takeover-grace = 5s\n";

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
     * the two tests below (adoption, then the adopted watchdog stops a frozen agent's scheduler in time;
     * a watchdog with longer timeouts is not adopted), {@code DeadmanHandOverTest} (the watchdog's side), and with
     * {@code bin/asfc-agent restart --hand-over} in {@code RollingUpgradeIT} and the proving ground.
     */
    @Test
    void theHoldersAgentIsReplacedWithNoSchedulerRestartAndALateOneAdoptsNothing() throws Exception {
        try (OverlapObserver overlap = new OverlapObserver(standIn)) {
            AgentProcess a = startAWithBStandingBy(config("a"), config("b"));
            long scheduler = schedulerPid("a");
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

    /**
     * Review of the hand-over (742e8c4): the adopted deadman keeps the timeouts of the agent that started it. An upgrade
     * with {@code restart --hand-over} whose new config (or new defaults) shortens the session timeout, each config
     * passing its own S4 budget, leaves a scheduler guarded by a deadman whose timeout no longer fits the resumed
     * session, which the server now times out with the new agent's (shorter) timeout. When the new agent freezes and
     * cannot be fenced (no SSH), the session expires, the leave-rule's (c) lets b start, and the adopted deadman stops
     * a's scheduler only at the old deadline: two schedulers (S1).
     */
    @Test
    void aHandOverThatShortensTheSessionLeavesTheAdoptedDeadmanTooSlowForS1() throws Exception {
        handOverThenFreeze(NEW, false);
    }

    /** The control: the same sequence with the old config for the next agent keeps S1 (no overlap). */
    @Test
    void withAnUnchangedConfigTheAdoptedDeadmanStopsTheSchedulerInTime() throws Exception {
        handOverThenFreeze(OLD, true);
    }

    /**
     * @param mustAdopt whether the next agent must keep the scheduler (same pid); otherwise S1 is all that is checked:
     *     it may adopt it, or stop it and start its own
     */
    private void handOverThenFreeze(String nextTimings, boolean mustAdopt) throws Exception {
        try (OverlapObserver overlap = new OverlapObserver(standIn)) {
            AgentProcess a = startAWithBStandingBy(childConfig("a", OLD), childConfig("b", NEW));
            long scheduler = schedulerPid("a");

            a.handOver();
            AgentProcess next = agents.startProcess("a", server.getConnectString(), childConfig("a", nextTimings));
            long running = await("the next agent runs a's scheduler")
                    .atMost(WAIT)
                    .until(
                            () -> agents.agentRecord("a")
                                    .filter(r -> r.pid() == next.pid())
                                    .map(AgentRecord::scheduler)
                                    .filter(s -> s.running() && s.pid() != null)
                                    .map(AgentRecord.SchedulerState::pid)
                                    .orElse(null),
                            Objects::nonNull);
            if (mustAdopt) {
                assertEquals(scheduler, running, "adopted, not restarted");
                assertTrue(next.output().contains("hand-over: resumed ZooKeeper session"), next.output());
            }

            // The new agent freezes (a GC pause, SIGSTOP) on a host that cannot be fenced (ssh.enabled = false).
            next.freeze();
            // b takes over once a's session (now timed out at 6 s) expired and takeover-grace passed ...
            await().atMost(WAIT).until(() -> running("b"));
            boolean aliveWhenBRan = alive(running);
            // ... and a's scheduler must be gone by then: its deadman is the only thing left to stop it.
            await().atMost(WAIT).until(() -> !alive(running));
            assertEquals(
                    0,
                    overlap.overlapping(),
                    "two schedulers ran at once for " + overlap.lifetimeOverlapMillis() + "ms: a's adopted deadman"
                            + " still counts its old timeout (a's scheduler alive when b reported running: "
                            + aliveWhenBRan + ")");
        }
    }

    /** Child mode, with {@code timings}. */
    private String childConfig(String node, String timings) {
        return StandIn.FAST_TIMINGS + "\nasfc.nodes = [a, b]\n" + timings + standIn.config(node, "");
    }

    /** Starts a, which leads and runs the scheduler, then b, which stands by. */
    private AgentProcess startAWithBStandingBy(String aConfig, String bConfig) {
        AgentProcess a = agents.startProcess("a", server.getConnectString(), aConfig);
        await().atMost(WAIT).until(() -> running("a"));
        agents.startProcess("b", server.getConnectString(), bConfig);
        await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
        return a;
    }

    /** The pid of {@code node}'s scheduler, once its agent reports one. */
    private long schedulerPid(String node) {
        return await().atMost(WAIT)
                .until(
                        () -> agents.agentRecord(node)
                                .map(r -> r.scheduler().pid())
                                .orElse(null),
                        Objects::nonNull);
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
