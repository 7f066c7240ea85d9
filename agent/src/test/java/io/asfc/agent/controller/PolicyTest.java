package io.asfc.agent.controller;

import static io.asfc.agent.controller.PlacementTest.NOW_WALL;
import static io.asfc.agent.controller.PlacementTest.POLICY;
import static io.asfc.agent.controller.PlacementTest.failed;
import static io.asfc.agent.controller.PlacementTest.idle;
import static io.asfc.agent.controller.PlacementTest.running;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.asfc.agent.controller.PlacementTest.World;
import io.asfc.common.zk.NodeRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Policy}: which nodes may run the scheduler, in which order, and the reason an operator is
 * told when one may not (it is the text of a refused {@code failover --to} and of {@code status}).
 * Nodes {@code a, b, c} have agents, {@code x} is agentless, max-restarts-before-failover is 3.
 */
class PolicyTest {
    private static final Policy ANY_AGENT = new Policy(List.of(), Set.of(), 3);

    @Test
    void eachReasonANodeIsNotEligible() {
        NodeRecord quarantined = new NodeRecord("c", true, 3, "failed 3 times in a row", NOW_WALL);
        var view = new World()
                .agent("a", idle(0))
                .unreadableAgent("b")
                .agent("c", failed(3, 0))
                .record(quarantined)
                .view();

        assertNull(POLICY.whyNot(view, "a"));
        assertEquals("not in asfc.nodes [a, b, c, x]", POLICY.whyNot(view, "z"));
        assertEquals("its agent's record is unreadable", POLICY.whyNot(view, "b"));
        assertEquals("quarantined: failed 3 times in a row", POLICY.whyNot(view, "c"));
        assertEquals("no live agent", POLICY.whyNot(new World().view(), "a"));
        assertEquals(
                "3 failures in a row",
                POLICY.whyNot(new World().agent("a", failed(3, 0)).view(), "a"));
        assertNull(POLICY.whyNot(new World().agent("a", failed(2, 0)).view(), "a"), "below the limit");
    }

    @Test
    void aQuarantineWithAnEndSaysUntilWhen() {
        Instant until = NOW_WALL.plusSeconds(10);
        var view = new World()
                .agent("a", failed(3, 0))
                .quarantined("a", 10_000, 1)
                .quarantined("x", 10_000, 1)
                .view();

        assertEquals("quarantined until " + until + ": failed 3 times in a row", POLICY.whyNot(view, "a"));
        assertEquals("quarantined until " + until + ": failed 3 times in a row", POLICY.whyNot(view, "x"));
    }

    @Test
    void aCordonSaysWhoAndHowToGiveItBack() {
        var view = new World()
                .agent("a", running(0))
                .cordoned("a")
                .record(NodeRecord.cordon("b", null, null))
                .agent("b", idle(0))
                .view();

        assertEquals(
                "cordoned by alice@ops since " + NOW_WALL.minusSeconds(60) + "; 'asfc-agent uncordon a' gives it back",
                POLICY.whyNot(view, "a"));
        assertEquals("cordoned; 'asfc-agent uncordon b' gives it back", POLICY.whyNot(view, "b"));
    }

    @Test
    void anAgentlessNodeNeedsNoAgentButMustBeReachableAndNotQuarantined() {
        assertNull(POLICY.whyNot(new World().view(), "x"));
        assertEquals(
                "unreachable over SSH: connection refused",
                POLICY.whyNot(new World().unreachable("x").view(), "x"));
        assertEquals(
                "quarantined: failed 3 times in a row",
                POLICY.whyNot(new World().quarantined("x").view(), "x"));
    }

    @Test
    void aNodeOnTrialMayFailOnceMoreThanAtItsLift() {
        var atLift = new World().agent("a", failed(3, 0)).trial("a", 3, 1).view();
        var onceMore = new World().agent("a", failed(4, 0)).trial("a", 3, 1).view();

        assertEquals(4, POLICY.failureLimit(atLift, "a"));
        assertNull(POLICY.whyNot(atLift, "a"));
        assertEquals("failed again after its quarantine was lifted", POLICY.whyNot(onceMore, "a"));
        assertEquals(3, POLICY.failureLimit(atLift, "b"), "no record: max-restarts-before-failover");
    }

    @Test
    void theNextEligibleNodeWrapsAroundAndIsNeverTheCurrentOne() {
        var view = new World()
                .agent("a", idle(0))
                .agent("b", idle(0))
                .agent("c", idle(0))
                .unreachable("x")
                .view();

        assertEquals(Optional.of("c"), POLICY.nextEligible(view, "b"));
        assertEquals(Optional.of("a"), POLICY.nextEligible(view, "c"), "wraps around");
        assertEquals(Optional.of("a"), POLICY.nextEligible(view, "z"), "a node not listed: from the first");
        assertEquals(
                Optional.empty(),
                POLICY.nextEligible(
                        new World().agent("a", idle(0)).unreachable("x").view(), "a"));
        assertEquals(
                Optional.of("x"),
                POLICY.nextEligible(new World().view(), "z"),
                "the last node of the order is a candidate too");
    }

    @Test
    void withoutAListEveryLiveAgentWithAValidNameInOrder() {
        var view = new World()
                .agent("c", idle(0))
                .agent("a", idle(0))
                .unreadableAgent("Bad Name")
                .view();

        assertEquals(List.of("a", "c"), ANY_AGENT.order(view));
        assertNull(ANY_AGENT.whyNot(view, "c"), "any node with a live agent");
        assertEquals("no live agent", ANY_AGENT.whyNot(view, "z"));
        assertEquals(Optional.of("a"), ANY_AGENT.firstEligible(view));
    }

    @Test
    void aFailedNodeIsSkippedForTheFirstEligible() {
        var view = new World().agent("a", failed(3, 0)).agent("b", idle(0)).view();

        assertEquals(Optional.of("b"), POLICY.firstEligible(view));
    }

    @Test
    void anAgentlessNodeOnTrialIsEligible() {
        assertNull(POLICY.whyNot(new World().trial("x", 0, 1).view(), "x"));
    }

    @Test
    void aRecordThatIsNoTrialCountsFailuresPlainly() {
        var view = new World()
                .agent("a", failed(3, 0))
                .record(new NodeRecord("a", false, 3, "an older leader's record", NOW_WALL))
                .view();

        assertEquals("3 failures in a row", POLICY.whyNot(view, "a"));
    }
}
