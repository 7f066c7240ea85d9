package io.asfc.agent.controller;

import static io.asfc.agent.controller.PlacementTest.BACKOFF;
import static io.asfc.agent.controller.PlacementTest.EPOCH;
import static io.asfc.agent.controller.PlacementTest.MAX_BACKOFF;
import static io.asfc.agent.controller.PlacementTest.NOW_WALL;
import static io.asfc.agent.controller.PlacementTest.POLICY;
import static io.asfc.agent.controller.PlacementTest.failed;
import static io.asfc.agent.controller.PlacementTest.idle;
import static io.asfc.agent.controller.PlacementTest.render;
import static io.asfc.agent.controller.PlacementTest.running;
import static io.asfc.agent.controller.PlacementTest.situation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.controller.PlacementTest.World;
import io.asfc.common.zk.NodeRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link NodeRequests} alone: what each operator request writes and answers, word for word (the
 * answer is what {@code asfc-agent cordon|drain|…} prints). Nodes {@code a, b, c} have agents,
 * {@code x} is agentless; requests are filed by alice@ops unless a test says otherwise.
 */
class NodeRequestsTest {
    private static final String SINCE = NOW_WALL.minusSeconds(60).toString();

    private final NodeRequests requests = new NodeRequests(POLICY, new Quarantines(POLICY, BACKOFF, MAX_BACKOFF));

    private List<Action> handle(World w) {
        List<Action> out = new ArrayList<>();
        requests.handle(situation(w), false, out);
        return out;
    }

    private Action.Operate operate(World w) {
        List<Action> out = handle(w);
        assertEquals(1, out.size(), () -> render(out));
        return (Action.Operate) out.get(0);
    }

    private String answer(World w) {
        return operate(w).answer();
    }

    private String written(World w) {
        return render(handle(w));
    }

    @Test
    void aRequestThatNamesNoNodeOrAnUnknownOneIsRefused() {
        assertEquals("refused: 'cordon' names no node", answer(new World().nodeRequest("cordon", null)));
        World unknown = new World().nodeRequest("cordon", "z");
        World unnamed = new World().nodeRequest("drain", null);
        assertEquals(unknown.view(), requests.handle(situation(unknown), false, new ArrayList<>()));
        assertEquals(unnamed.view(), requests.handle(situation(unnamed), false, new ArrayList<>()));
        assertEquals(
                "refused: unknown node 'z': asfc.nodes is [a, b, c, x]",
                answer(new World().nodeRequest("cordon", "z")));
        assertEquals("refused: unknown request 'evict'", answer(new World().nodeRequest("evict", "a")));
        NodeRequests anyAgent =
                new NodeRequests(new Policy(List.of(), Set.of(), 3), new Quarantines(POLICY, BACKOFF, MAX_BACKOFF));
        List<Action> out = new ArrayList<>();
        anyAgent.handle(situation(new World().nodeRequest("cordon", "z")), false, out);
        assertTrue(
                ((Action.Operate) out.get(0)).answer().startsWith("done: z is cordoned"),
                "without asfc.nodes any name is a node");
    }

    @Test
    void noPendingNodeRequestNoAnswerAndTheViewUnchanged() {
        World w = new World().assigned("a", EPOCH).request("b", java.time.Duration.ofSeconds(10));
        List<Action> out = new ArrayList<>();
        assertEquals(w.view(), requests.handle(situation(w), false, out));
        assertEquals(List.of(), out);
    }

    @Test
    void theViewTheRestOfTheDecisionSeesHasTheWrites() {
        World w = new World().assigned("a", EPOCH).nodeRequest("cordon", "b");
        ClusterView after = requests.handle(situation(w), false, new ArrayList<>());
        assertTrue(after.node("b").hasCordon());
        assertNull(w.view().node("b"));
    }

    @Test
    void cordonSaysWhereTheSchedulerIs() {
        assertEquals(
                "done: b is cordoned: it is never chosen to run the scheduler; the scheduler is assigned to a",
                answer(new World().assigned("a", EPOCH).nodeRequest("cordon", "b")));
        assertEquals(
                "done: a is cordoned: it is never chosen to run the scheduler; the scheduler stays on a until it"
                        + " moves ('asfc-agent drain a' moves it)",
                answer(new World().assigned("a", EPOCH).nodeRequest("cordon", "a")));
        assertEquals(
                "done: b is cordoned: it is never chosen to run the scheduler; nothing is assigned",
                answer(new World().nodeRequest("cordon", "b")));
        assertEquals(
                "done: a is cordoned: it is never chosen to run the scheduler; the scheduler is being moved away"
                        + " from a",
                answer(new World().moving("a", "b", null).nodeRequest("cordon", "a")));
        assertEquals(
                "done: c is cordoned: it is never chosen to run the scheduler; the scheduler is being moved",
                answer(new World().moving("a", "b", null).nodeRequest("cordon", "c")));
    }

    @Test
    void cordonRecordsWhoAndKeepsAQuarantine() {
        Action.Operate op = operate(new World().quarantined("b", 5_000, 1).nodeRequest("cordon", "b"));

        assertEquals("node-cordoned", op.event());
        assertEquals("b by alice@ops", op.detail());
        NodeRecord r = op.writes().get(0).record();
        assertTrue(r.quarantined() && r.hasCordon(), r::toString);
        assertEquals("alice@ops", r.cordonedBy());
        assertEquals(NOW_WALL, r.cordonedAt());
        assertEquals(
                "b by an operator",
                operate(new World().nodeRequestBy("cordon", "b", null)).detail());
    }

    @Test
    void cordonOfACordonedNodeChangesNothing() {
        Action.Operate op = operate(new World().cordoned("b").nodeRequest("cordon", "b"));

        assertEquals("done: b was already cordoned (by alice@ops since " + SINCE + ")", op.answer());
        assertEquals(List.of(), op.writes());
        assertNull(op.event());
    }

    @Test
    void uncordonKeepsWhatElseTheRecordSays() {
        assertEquals("done: b was not cordoned", answer(new World().nodeRequest("uncordon", "b")));
        assertEquals(
                "done: b was not cordoned",
                answer(new World().quarantined("b", 5_000, 1).nodeRequest("uncordon", "b")));
        Action.Operate op =
                operate(new World().quarantined("b", 5_000, 1).cordoned("b").nodeRequest("uncordon", "b"));
        assertEquals("Operate(b:quarantined node-uncordoned done)", render(List.of(op)));
        assertEquals("done: b is no longer cordoned: it may run the scheduler again", op.answer());
        assertEquals("b by alice@ops", op.detail());
    }

    @Test
    void drainOfANodeThatDoesNotHoldTheSchedulerOnlyCordonsIt() {
        assertEquals(
                "Operate(a:cordoned node-cordoned done)",
                written(new World().moving("a", "b", null).agent("b", idle(0)).nodeRequest("drain", "a")),
                "a move under way is not begun again");
        assertEquals(
                "done: a is cordoned; nothing is assigned",
                answer(new World().agent("b", idle(0)).nodeRequest("drain", "a")));
        Action.Operate again =
                operate(new World().assigned("a", EPOCH).cordoned("b").nodeRequest("drain", "b"));
        assertEquals("Operate(done)", render(List.of(again)), "already cordoned: nothing written");
        assertNull(again.event());
        assertEquals("b by alice@ops (drain)", again.detail());
    }

    @Test
    void drainOfTheHolderCordonsAndBeginsTheMoveInOneTransaction() {
        List<Action> out = handle(new World()
                .assigned("a", EPOCH)
                .agent("a", running(0))
                .agent("b", idle(0))
                .nodeRequest("drain", "a"));

        assertEquals("Operate(a:cordoned node-cordoned -) BeginMove(a->b OPERATOR r1)", render(out));
        assertEquals("a by alice@ops (drain)", ((Action.Operate) out.get(0)).detail());
        assertEquals("drain of a by alice@ops", ((Action.BeginMove) out.get(1)).reason());
        assertEquals(
                "refused: no other node is eligible to take the scheduler from a; nothing changed",
                answer(new World()
                        .assigned("a", EPOCH)
                        .agent("a", running(0))
                        .unreachable("x")
                        .nodeRequest("drain", "a")));
    }

    @Test
    void unquarantineOfANodeThatRanCleanlyForgetsItsFailures() {
        Action.Operate op = operate(
                new World().agent("b", idle(0)).quarantined("b", 30_000, 2).nodeRequest("unquarantine", "b"));

        assertEquals("Operate(b:- node-unquarantined done)", render(List.of(op)));
        assertEquals("b by alice@ops; it gets one attempt", op.detail());
        assertEquals(
                "done: b's quarantine is lifted: it may run the scheduler (one more failure quarantines it again)",
                op.answer());
    }

    @Test
    void unquarantineWithoutAnAgentLiftsForOneAttempt() {
        assertEquals(
                "Operate(x:trial@0 node-unquarantined done)",
                written(new World().quarantined("x", 30_000, 1).nodeRequest("unquarantine", "x")));
        assertEquals(
                "Operate(b:trial@3 node-unquarantined done)",
                written(new World().quarantined("b", 30_000, 1).nodeRequest("unquarantine", "b")),
                "its agent is away: the count its record saw");
    }

    @Test
    void unquarantineOfANodeKeptOutByItsCountAlone() {
        assertEquals(
                "Operate(b:trial@3 node-unquarantined done)",
                written(new World().agent("b", failed(3, 0)).nodeRequest("unquarantine", "b")),
                "no record (cleared by clear-metadata): its count keeps it out");
        assertEquals(
                "Operate(b:trial@3+cordoned node-unquarantined done)",
                written(new World().agent("b", failed(3, 0)).cordoned("b").nodeRequest("unquarantine", "b")));
        assertEquals(
                "Operate(b:trial@4 node-unquarantined done)",
                written(new World().agent("b", failed(4, 0)).trial("b", 3, 1).nodeRequest("unquarantine", "b")),
                "failed on its trial");
        assertEquals(
                "done: b is not quarantined",
                answer(new World().agent("b", failed(2, 0)).nodeRequest("unquarantine", "b")));
        assertEquals(
                "done: x is not quarantined",
                answer(new World().failures("x", 5).nodeRequest("unquarantine", "x")),
                "agentless: only its quarantine keeps it out");
    }

    @Test
    void resetFailuresOfOneNodeLeavesTheOthers() {
        Action.Operate op = operate(
                new World().agent("b", failed(2, 0)).agent("c", failed(1, 0)).nodeRequest("reset-failures", "b"));

        assertEquals("Operate(b:trial@2 failures-reset done)", render(List.of(op)));
        assertEquals("b by alice@ops", op.detail());
        assertEquals("done: failures reset on b", op.answer());
    }

    @Test
    void resetFailuresOfEveryNodeNamesThem() {
        Action.Operate op = operate(
                new World().agent("b", failed(2, 0)).agent("c", failed(1, 0)).nodeRequest("reset-failures", null));

        assertEquals("b, c by alice@ops", op.detail());
        assertEquals("done: failures reset on b, c", op.answer());
    }

    @Test
    void resetFailuresWithNothingToResetChangesNothing() {
        assertEquals(
                "done: b had no failures to reset",
                answer(new World().agent("b", idle(0)).nodeRequest("reset-failures", "b")));
        assertEquals(
                "done: no node had no failures to reset",
                answer(new World().agent("b", idle(0)).nodeRequest("reset-failures", null)));
        World resetBefore = new World()
                .agent("b", failed(3, 0))
                .record(new NodeRecord("b", false, 0, null, null).reset(NOW_WALL.minusSeconds(5), 3));
        assertEquals(
                "done: b had no failures to reset",
                answer(resetBefore.nodeRequest("reset-failures", "b")),
                "already reset at this count");
    }

    @Test
    void resetFailuresRewritesATrialOrAQuarantineAtTheSameCount() {
        assertEquals(
                "Operate(b:trial@3 failures-reset done)",
                written(new World().agent("b", failed(3, 0)).trial("b", 3, 1).nodeRequest("reset-failures", "b")),
                "a trial after a quarantine still counts quarantines in a row: reset");
        assertEquals(
                "Operate(b:trial@3 failures-reset done)",
                written(new World()
                        .agent("b", failed(3, 0))
                        .quarantined("b", 5_000, 1)
                        .nodeRequest("reset-failures", "b")));
        assertEquals(
                "Operate(b:- failures-reset done)",
                written(new World()
                        .agent("b", idle(0))
                        .quarantined("b", 5_000, 1)
                        .nodeRequest("reset-failures", "b")),
                "no failures now: the record goes");
    }

    @Test
    void unquarantineOfACordonedNodeThatIsNotQuarantinedChangesNothing() {
        assertEquals(
                "done: b is not quarantined",
                answer(new World().agent("b", idle(0)).cordoned("b").nodeRequest("unquarantine", "b")));
    }

    @Test
    void resetFailuresOfANodeResetEarlierThatHasSinceRunCleanlyDeletesItsRecord() {
        World w = new World()
                .agent("b", idle(0))
                .record(new NodeRecord("b", false, 0, null, null).reset(NOW_WALL.minusSeconds(5), 3));

        assertEquals("Operate(b:- failures-reset done)", written(w.nodeRequest("reset-failures", "b")));
    }

    @Test
    void resetFailuresEndsAnOlderLeadersQuarantineAndKeepsTheCordon() {
        World w = new World().agent("b", idle(0)).legacyQuarantine("b", 1_000).cordoned("b");

        assertEquals("Operate(b:cordoned failures-reset done)", written(w.nodeRequest("reset-failures", "b")));
    }

    @Test
    void resetFailuresOfANodeResetEarlierThatFailedSinceResetsItAtItsNewCount() {
        World w = new World()
                .agent("b", failed(5, 0))
                .record(new NodeRecord("b", false, 0, null, null).reset(NOW_WALL.minusSeconds(5), 3));

        assertEquals("Operate(b:trial@5 failures-reset done)", written(w.nodeRequest("reset-failures", "b")));
    }
}
