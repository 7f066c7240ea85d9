package io.asfc.agent.controller;

import static io.asfc.agent.controller.PlacementTest.BACKOFF;
import static io.asfc.agent.controller.PlacementTest.MAX_BACKOFF;
import static io.asfc.agent.controller.PlacementTest.NOW_WALL;
import static io.asfc.agent.controller.PlacementTest.POLICY;
import static io.asfc.agent.controller.PlacementTest.failed;
import static io.asfc.agent.controller.PlacementTest.idle;
import static io.asfc.agent.controller.PlacementTest.render;
import static io.asfc.agent.controller.PlacementTest.running;
import static io.asfc.agent.controller.PlacementTest.situation;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asfc.agent.controller.PlacementTest.World;
import io.asfc.common.zk.NodeRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Quarantines} alone: the lifts, clears and re-quarantines of a review, the doubling backoff
 * and whose failure count is believed. The rows of {@link PlacementTest} show them inside a decision;
 * these pin the edges (quarantine-backoff 10 s, max-quarantine-backoff 40 s, limit 3).
 */
class QuarantinesTest {
    private final Quarantines quarantines = new Quarantines(POLICY, BACKOFF, MAX_BACKOFF);

    private String review(World w, String assigned) {
        List<Action> out = new ArrayList<>();
        quarantines.review(situation(w), assigned, out);
        return render(out);
    }

    private List<Action> actions(World w, String assigned) {
        List<Action> out = new ArrayList<>();
        quarantines.review(situation(w), assigned, out);
        return out;
    }

    @Test
    void theBackoffDoublesAtEachQuarantineInARowUpToTheMaximum() {
        assertEquals(Duration.ofSeconds(10), quarantines.backoff(1));
        assertEquals(Duration.ofSeconds(20), quarantines.backoff(2));
        assertEquals(Duration.ofSeconds(40), quarantines.backoff(3));
        assertEquals(Duration.ofSeconds(40), quarantines.backoff(4));
        assertEquals(Duration.ofSeconds(40), quarantines.backoff(30));
        Quarantines uneven = new Quarantines(POLICY, Duration.ofSeconds(30), Duration.ofSeconds(45));
        assertEquals(Duration.ofSeconds(30), uneven.backoff(1));
        assertEquals(Duration.ofSeconds(45), uneven.backoff(2), "doubled past the maximum: the maximum");
    }

    @Test
    void whoseFailureCountIsBelieved() {
        World w = new World()
                .agent("a", failed(2, 0))
                .failures("x", 4)
                .record(new NodeRecord("c", false, 5, "failed 5 times in a row", NOW_WALL));
        Placement.Situation s = situation(w);

        assertEquals(2, quarantines.failures(s, "a"), "a live agent's own count");
        assertEquals(4, quarantines.failures(s, "x"), "the leader's count for an agentless node");
        assertEquals(5, quarantines.failures(s, "c"), "an agent away: what its record last saw");
        assertEquals(0, quarantines.failures(s, "b"), "no agent and no record");
        assertEquals(0, quarantines.failures(situation(new World()), "x"), "an agentless node never counted");
    }

    @Test
    void aFirstQuarantineSaysHowOftenItFailedAndASecondWhy() {
        Action.Quarantine first =
                quarantines.quarantine(situation(new World().agent("a", failed(3, 0))), "a", 3, "the why");
        Action.Quarantine again = quarantines.quarantine(situation(new World().trial("a", 3, 1)), "a", 4, "the why");

        assertEquals("failed 3 times in a row", first.record().reason());
        assertEquals(1, first.record().count());
        assertEquals(NOW_WALL.plusSeconds(10), first.record().until());
        assertEquals(false, first.agentless());
        assertEquals("failed 4 times in a row (the why)", again.record().reason());
        assertEquals(2, again.record().count());
        assertEquals(NOW_WALL.plusSeconds(20), again.record().until());
        assertEquals(
                true,
                quarantines.quarantine(situation(new World()), "x", 3, "w").agentless());
    }

    @Test
    void aLiftSaysHowLongTheQuarantineWas() {
        World seconds = new World().agent("a", failed(3, 0)).quarantined("a", -1, 2);
        World minutes = new World()
                .agent("a", failed(3, 0))
                .record(new NodeRecord("a", true, 3, "r", NOW_WALL.minusSeconds(200))
                        .quarantine(3, "r", NOW_WALL.minusSeconds(200), Duration.ofMinutes(2), 3));
        World notWhole = new World()
                .agent("a", failed(3, 0))
                .record(new NodeRecord("a", true, 3, "r", NOW_WALL.minusSeconds(200))
                        .quarantine(3, "r", NOW_WALL.minusSeconds(200), Duration.ofSeconds(90), 3));
        World aMinute = new World()
                .agent("a", failed(3, 0))
                .record(new NodeRecord("a", true, 3, "r", NOW_WALL.minusSeconds(200))
                        .quarantine(3, "r", NOW_WALL.minusSeconds(200), Duration.ofSeconds(60), 3));
        World legacy = new World().agent("a", failed(3, 0)).legacyQuarantine("a", 11_000);

        assertEquals(
                "its quarantine of 20s ended; it gets one attempt",
                lift(seconds).why());
        assertEquals(
                "its quarantine of 2m ended; it gets one attempt", lift(minutes).why());
        assertEquals(
                "its quarantine of 90s ended; it gets one attempt",
                lift(notWhole).why());
        assertEquals(
                "its quarantine of 1m ended; it gets one attempt", lift(aMinute).why());
        assertEquals(
                "its quarantine of 10s ended; it gets one attempt", lift(legacy).why(), "quarantine-backoff");
    }

    private Action.Lift lift(World w) {
        return (Action.Lift) actions(w, null).get(0);
    }

    @Test
    void aQuarantineEndsExactlyAtItsEnd() {
        assertEquals(
                "Lift(a trial@3)", review(new World().agent("a", failed(3, 0)).quarantined("a", 0, 1), null));
        assertEquals("", review(new World().agent("a", failed(3, 0)).quarantined("a", 1, 1), null));
    }

    @Test
    void onlyALiveAgentCanReportACleanStart() {
        NodeRecord noFailures =
                new NodeRecord("a", true, 0, "r", NOW_WALL).quarantine(0, "r", NOW_WALL, Duration.ofSeconds(10), 1);

        assertEquals("Lift(a -)", review(new World().agent("a", idle(0)).record(noFailures), null));
        assertEquals("", review(new World().record(noFailures), null), "its agent is away");
        assertEquals(
                "",
                review(new World().agent("b", idle(0)).quarantined("x", 5_000, 1), null),
                "agentless: no agent reports for it, and b may run the scheduler");
    }

    @Test
    void anAgentlessNodeGetsAnotherAttemptWhenNoNodeIsEligible() {
        World w = new World().agent("a", failed(3, 0)).quarantined("x", 5_000, 1);

        assertEquals("Lift(x trial@0)", review(w, null));
        assertEquals("no node is eligible; it gets one attempt", lift(w).why());
        assertEquals("", review(new World().quarantined("x", 5_000, 1).agent("a", idle(0)), null));
    }

    @Test
    void aTrialEndsCleanOnlyOnTheEvidenceOfItsOwnKind() {
        assertEquals(
                "Recovered(x -)",
                review(new World().trial("x", 0, 1).agentlessRunning("x"), null),
                "agentless: seen running with no failure");
        assertEquals("", review(new World().trial("x", 0, 1), null), "agentless, not seen running: the trial goes on");
        assertEquals(
                "",
                review(new World().trial("x", 0, 1).agentlessRunning("x").failures("x", 1), "x"),
                "agentless, seen running but failed since: not clean");
        assertEquals(
                "Recovered(a -)",
                review(new World().agent("a", running(2, 0)).trial("a", 3, 1), null),
                "its agent reports fewer failures than at the lift: it ran cleanly");
    }

    @Test
    void aNodeOnTrialThatFailsAgainIsQuarantinedAgainUnlessItHoldsTheAssignment() {
        World agentless = new World().trial("x", 0, 1).failures("x", 1).agentlessRunning("x");
        World withAgent = new World().agent("a", running(4, 0)).trial("a", 3, 1);

        assertEquals("Quarantine(x 20s #2)", review(agentless, "b"));
        assertEquals("", review(agentless, "x"), "the assigned node's quarantine comes with its move");
        assertEquals("Quarantine(a 20s #2)", review(withAgent, "b"));
        assertEquals("", review(new World().trial("a", 5, 1), "b"), "its agent is away: nothing is known of it");
    }

    @Test
    void theBackoffNeverOverflowsHoweverLongAFaultLasts() {
        assertEquals(Duration.ofSeconds(40), quarantines.backoff(Integer.MAX_VALUE));
    }

    @Test
    void aQuarantineKeepsACordon() {
        Action.Quarantine q = quarantines.quarantine(
                situation(new World().agent("a", failed(3, 0)).cordoned("a")), "a", 3, "the why");

        assertEquals(true, q.record().hasCordon());
        assertEquals(true, q.record().quarantined());
    }

    @Test
    void anAgentlessNodeIsNeverLiftedOnAnAgentsWord() {
        World w = new World().agent("b", idle(0)).agent("x", idle(0)).quarantined("x", 5_000, 1);

        assertEquals("", review(w, null), "an agent record for x (made by hand) does not lift it");
    }

    @Test
    void aNodeOnTrialWhoseAgentIsAwayIsNotQuarantinedAgain() {
        // its record saw 3 failures, one more than at its lift: only a live agent's count is believed
        assertEquals("", review(new World().agent("b", idle(0)).trial("a", 2, 1), "b"));
    }
}
