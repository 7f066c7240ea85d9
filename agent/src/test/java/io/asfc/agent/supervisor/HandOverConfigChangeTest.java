package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.OverlapObserver;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.AgentRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the hand-over (742e8c4): the adopted deadman keeps the timeouts of the agent that started it. An upgrade
 * with {@code restart --hand-over} whose new config (or new defaults) shortens the session timeout, each config
 * passing its own S4 budget, leaves a scheduler guarded by a deadman whose timeout no longer fits the resumed
 * session, which the server now times out with the new agent's (shorter) timeout. When the new agent freezes and
 * cannot be fenced (no SSH), the session expires, the leave-rule's (c) lets b start, and the adopted deadman stops
 * a's scheduler only at the old deadline: two schedulers (S1).
 */
class HandOverConfigChangeTest {
    /** The old agent's session: deadman 2/3 x 20 s + 10 s = 23.3 s; budget 23.3 + 1 < 20 + 5. */
    private static final Duration OLD_SESSION = Duration.ofSeconds(20);

    private static final String OLD = "\nasfc.controller.takeover-grace = 5s\n";
    /**
     * The new agents' session: deadman 2/3 x 6 s + 1 s = 5 s; budget 5 + 1 < 6 + 5. The same takeover-grace: with
     * the old session timeout the old deadman would still fit (23.3 + 1 < 20 + 5).
     */
    private static final String NEW = "\nasfc.zookeeper { session-timeout = 6s, self-fence-after = 1s }\n"
            + "asfc.controller.takeover-grace = 5s\n";

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString(), OLD_SESSION);
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        standIn.killAll();
        server.close();
    }

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
            AgentProcess a = agents.startProcess("a", server.getConnectString(), config("a", OLD));
            await().atMost(WAIT).until(() -> running("a"));
            agents.startProcess("b", server.getConnectString(), config("b", NEW));
            await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
            long scheduler = await().atMost(WAIT)
                    .until(
                            () -> agents.agentRecord("a")
                                    .map(r -> r.scheduler().pid())
                                    .orElse(null),
                            Objects::nonNull);

            a.handOver();
            AgentProcess next = agents.startProcess("a", server.getConnectString(), config("a", nextTimings));
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

    private String config(String node, String timings) {
        return StandIn.FAST_TIMINGS + "\nasfc.nodes = [a, b]\n" + timings + standIn.config(node, "");
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private boolean running(String node) throws Exception {
        return agents.agentRecord(node).map(r -> r.scheduler().running()).orElse(false);
    }
}
