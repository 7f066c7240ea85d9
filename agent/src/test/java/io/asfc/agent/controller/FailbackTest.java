package io.asfc.agent.controller;

import static io.asfc.agent.controller.PlacementTest.BACKOFF;
import static io.asfc.agent.controller.PlacementTest.EPOCH;
import static io.asfc.agent.controller.PlacementTest.GRACE;
import static io.asfc.agent.controller.PlacementTest.MAX_BACKOFF;
import static io.asfc.agent.controller.PlacementTest.NOW;
import static io.asfc.agent.controller.PlacementTest.POLICY;
import static io.asfc.agent.controller.PlacementTest.POLL;
import static io.asfc.agent.controller.PlacementTest.idle;
import static io.asfc.agent.controller.PlacementTest.running;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.asfc.agent.controller.PlacementTest.World;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code controller.failback = to-preferred} as a table: the scheduler returns to the first node of
 * {@code nodes} (a) once it has run healthy where it is for {@code failback-after}, and a has been
 * eligible as long, and never while any node is quarantined or cordoned. The return is a move
 * ({@code BeginMove}), so the leave-rule decides when a is assigned, as for {@code failover --to}.
 */
class FailbackTest {
    private static final long AFTER = Duration.ofSeconds(10).toNanos();
    private static final long SECOND = 1_000_000_000L;

    /** b holds the scheduler, healthy; a is idle and eligible; both seen so since {@code seenFor}. */
    private static World onB() {
        return new World().assigned("b", EPOCH).agent("a", idle(0)).agent("b", running(0));
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                row(
                        "healthy on b and a eligible for failback-after",
                        onB(),
                        AFTER,
                        "Supervise(-) MoveCompleted BeginMove(b->a FAILBACK)"),
                row(
                        "not yet: it waits until failback-after is up",
                        onB(),
                        AFTER - 1_000_000,
                        "Supervise(-) MoveCompleted WakeAt(+1ms)"),
                row(
                        "never while any node is quarantined",
                        onB().quarantined("c"),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row("never while any node is cordoned", onB().cordoned("c"), AFTER * 9, "Supervise(-) MoveCompleted"),
                row(
                        "never while the preferred node is cordoned",
                        onB().cordoned("a"),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row(
                        "never to a preferred node without a live agent",
                        new World().assigned("b", EPOCH).agent("b", running(0)),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row(
                        "never to a preferred node that keeps failing",
                        onB().agent("a", PlacementTest.failed(3, 0)),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row(
                        "never from an unhealthy scheduler",
                        onB().agent("b", new SchedulerState(true, false, 42L, null, 0, false, 0L)),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row(
                        "already on the preferred node",
                        new World().assigned("a", EPOCH).agent("a", running(0)).agent("b", idle(0)),
                        AFTER * 9,
                        "Supervise(-) MoveCompleted"),
                row(
                        "from a healthy agentless holder too",
                        new World().assigned("x", EPOCH).agent("a", idle(0)).agentlessRunning("x"),
                        AFTER,
                        "Supervise(x) BeginMove(x->a FAILBACK)"),
                row(
                        "never from an agentless holder that cannot be reached",
                        new World()
                                .assigned("x", EPOCH)
                                .agent("a", idle(0))
                                .agentlessRunning("x")
                                .unreachable("x"),
                        AFTER * 9,
                        "Supervise(x)"),
                row(
                        "a node lifted for one attempt (not quarantined, not cordoned) does not hold it back",
                        onB().trial("c", 3, 1),
                        AFTER,
                        "Supervise(-) MoveCompleted BeginMove(b->a FAILBACK)"),
                row(
                        "a record of a node that is neither quarantined nor cordoned does not hold it back",
                        onB().record(new io.asfc.common.zk.NodeRecord("c", false, 0, null, null)),
                        AFTER,
                        "Supervise(-) MoveCompleted BeginMove(b->a FAILBACK)"),
                row("never while the cluster is paused", onB().paused(), AFTER * 9, ""));
    }

    private static Arguments row(String situation, World w, long seenFor, String expected) {
        return Arguments.of(situation, w, seenFor, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void failback(String situation, World w, long seenFor, String expected) {
        w.memory().observe(w.view(), POLICY, NOW - seenFor, w.agentlessRunningNodes());
        w.memory().observe(w.view(), POLICY, NOW, w.agentlessRunningNodes());

        assertEquals(
                expected,
                PlacementTest.render(placement(FailbackTerms.to(AFTER)).decide(PlacementTest.situation(w))));
    }

    @Test
    void offByDefault() {
        World w = onB();
        w.memory().observe(w.view(), POLICY, NOW - AFTER * 9, Set.of());
        w.memory().observe(w.view(), POLICY, NOW, Set.of());

        assertEquals(
                "Supervise(-) MoveCompleted",
                PlacementTest.render(PlacementTest.placement(w).decide(PlacementTest.situation(w))));
    }

    @Test
    void theClockCountsFromWhenThePreferredNodeBecameEligible() {
        World before = new World().assigned("b", EPOCH).agent("b", running(0)); // a has no agent yet
        World after = onB();
        after.memory().observe(before.view(), POLICY, NOW - AFTER * 9, Set.of());
        after.memory().observe(after.view(), POLICY, NOW - 2 * SECOND, Set.of());
        after.memory().observe(after.view(), POLICY, NOW, Set.of());

        assertEquals(
                "Supervise(-) MoveCompleted WakeAt(+8000ms)",
                PlacementTest.render(placement(FailbackTerms.to(AFTER)).decide(PlacementTest.situation(after))),
                "a joined 2 s ago: no flapping back to a node that just came up");
    }

    @Test
    void aBreakInHealthStartsTheClockAgain() {
        World healthy = onB();
        World sick = onB().agent("b", new SchedulerState(true, false, 42L, null, 0, false, 0L));
        healthy.memory().observe(healthy.view(), POLICY, NOW - AFTER * 9, Set.of());
        healthy.memory().observe(sick.view(), POLICY, NOW - 3 * SECOND, Set.of());
        healthy.memory().observe(healthy.view(), POLICY, NOW - 1 * SECOND, Set.of());
        healthy.memory().observe(healthy.view(), POLICY, NOW, Set.of());

        assertEquals(
                "Supervise(-) MoveCompleted WakeAt(+9000ms)",
                PlacementTest.render(placement(FailbackTerms.to(AFTER)).decide(PlacementTest.situation(healthy))));
    }

    @Test
    void withoutAListOfNodesThereIsNoPreferredNode() {
        Policy any = new Policy(List.of(), Set.of(), 3);
        World w = onB();
        w.memory().observe(w.view(), any, NOW - AFTER * 9, Set.of());
        w.memory().observe(w.view(), any, NOW, Set.of());

        Placement placement = new Placement(
                any,
                new LeaveRule.Terms(any::isAgentless, true, io.asfc.common.config.Modes.OnUnfenceable.PROCEED, GRACE),
                POLL,
                BACKOFF,
                MAX_BACKOFF,
                FailbackTerms.to(AFTER));
        assertEquals("Supervise(-) MoveCompleted", PlacementTest.render(placement.decide(PlacementTest.situation(w))));
    }

    @Test
    void theViewOfNowDecidesNotTheClocks() {
        World before = onB();
        World now = onB().cordoned("a");
        before.memory().observe(before.view(), POLICY, NOW - AFTER * 9, Set.of());

        assertEquals(
                "Supervise(-) MoveCompleted",
                PlacementTest.render(placement(FailbackTerms.to(AFTER))
                        .decide(PlacementTest.situation(now).withMemory(before.memory()))),
                "a was cordoned after the last look: no failback to it");
    }

    @Test
    void neverToAnAgentlessPreferredNode() {
        Policy agentlessFirst = new Policy(List.of("x", "b"), Set.of("x"), 3);
        World w = new World().assigned("b", EPOCH).agent("b", running(0));
        w.memory().observe(w.view(), agentlessFirst, NOW - AFTER * 9, Set.of());
        w.memory().observe(w.view(), agentlessFirst, NOW, Set.of());
        Placement placement = new Placement(
                agentlessFirst,
                new LeaveRule.Terms(
                        agentlessFirst::isAgentless, true, io.asfc.common.config.Modes.OnUnfenceable.PROCEED, GRACE),
                POLL,
                BACKOFF,
                MAX_BACKOFF,
                FailbackTerms.to(AFTER));

        assertEquals("Supervise(-) MoveCompleted", PlacementTest.render(placement.decide(PlacementTest.situation(w))));
    }

    @Test
    void theFailbackMoveWaitsForTheLeaveRuleLikeAnyOther() {
        World w = new World().moving("b", "a", null).agent("a", idle(0)).agent("b", running(0));

        assertEquals("", PlacementTest.render(placement(FailbackTerms.to(AFTER)).decide(PlacementTest.situation(w))));
    }

    private static Placement placement(FailbackTerms failback) {
        return new Placement(
                POLICY,
                new LeaveRule.Terms(
                        POLICY::isAgentless, true, io.asfc.common.config.Modes.OnUnfenceable.PROCEED, GRACE),
                POLL,
                BACKOFF,
                MAX_BACKOFF,
                failback);
    }
}
