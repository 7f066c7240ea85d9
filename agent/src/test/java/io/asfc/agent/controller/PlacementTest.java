package io.asfc.agent.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Placement} as a table (STYLE.md, "Decisions apart from effects"): each row is a situation
 * from issue 16, the review of c86bae1 or the controller's ordinary work, and the exact actions the
 * leader must take. Nodes {@code a, b, c} have agents, {@code x} is agentless; the leader holds epoch
 * {@value #EPOCH}; a moving {@code scheduler} znode was written at generation {@value #G};
 * takeover-grace is 5 s and poll-interval 1 s. Every row also checks the one safety property: a move
 * is only finished ({@code Assign} while moving) when the leave-rule holds for every node it leaves.
 */
class PlacementTest {
    static final long EPOCH = 5;
    static final long G = 100;
    static final long NOW = 1_000_000_000_000L;
    static final long GRACE = Duration.ofSeconds(5).toNanos();
    static final long POLL = Duration.ofSeconds(1).toNanos();
    static final Instant NOW_WALL = Instant.parse("2026-12-07T12:00:00Z");
    static final Policy POLICY = new Policy(List.of("a", "b", "c", "x"), Set.of("x"), 3);
    static final Duration BACKOFF = Duration.ofSeconds(10);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(40);

    static Stream<Arguments> rows() {
        return Stream.of(
                // --- a move's second phase: the leave-rule for each node it leaves
                row(
                        "move whose source agent vanished (silent cut), SSH on: stop its host first, assign nothing",
                        w -> w.moving("a", "b", null).agent("b", idle(0)).agent("c", idle(0)),
                        "StopHost(a@100)"),
                row(
                        "move whose source agent vanished, SSH off: wait takeover-grace from when this leader saw it gone",
                        w -> w.noSsh()
                                .moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 1_000),
                        "WakeAt(+4000ms)"),
                row(
                        "move whose source agent vanished, SSH off, takeover-grace over: (c), finish the move",
                        w -> w.noSsh()
                                .moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 5_000),
                        "Assign(b) Moved(a->b OTHER)"),
                row(
                        "leader killed between node:null and assign: the new leader finishes once a proves it stopped",
                        w -> w.moving("a", "b", null).agent("a", idle(G)).agent("b", idle(0)),
                        "Assign(b) Moved(a->b OTHER)"),
                row(
                        "a leader that began the move itself counts it under the reason it began it for",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(0))
                                .reason(FailoverReason.AGENT_LOST),
                        "Assign(b) Moved(a->b AGENT_LOST)"),
                row(
                        "an operator's move finished by a new leader is still counted as the operator's",
                        w -> w.moving("a", "b", "r1").agent("a", idle(G)).agent("b", idle(0)),
                        "Assign(b) Moved(a->b OPERATOR)"),
                row(
                        "stale heartbeat: running=false but observed before the unassignment proves nothing",
                        w -> w.moving("a", "b", null).agent("a", idle(G - 1)).agent("b", idle(0)),
                        ""),
                row(
                        "stale heartbeat during a slow command-mode start (starting=true) proves nothing",
                        w -> w.moving("a", "b", null).agent("a", starting(G)).agent("b", idle(0)),
                        ""),
                row(
                        "heal 1-3 s after session expiry: a is back and still runs it, wait for its report",
                        w -> w.moving("a", "b", null).agent("a", running(G - 1)).agent("b", idle(0)),
                        ""),
                row(
                        "cut-off holder slow to exit: host stop failed just now, grace not over: wait",
                        w -> w.moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 1_000)
                                .stop("a", G, false, 0),
                        "WakeAt(+4000ms)"),
                row(
                        "cut-off holder: a failed host stop is tried again after poll-interval",
                        w -> w.moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 2_000)
                                .stop("a", G, false, 1_500),
                        "StopHost(a@100) WakeAt(+3000ms)"),
                row(
                        "cut-off holder, on-unfenceable = wait: blocked after a failed stop, however long",
                        w -> w.mode(OnUnfenceable.WAIT)
                                .moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 60_000)
                                .stop("a", G, false, 0),
                        "MoveBlocked(a)"),
                row(
                        "cut-off holder stopped over SSH by this leader after the unassignment: (b)",
                        w -> w.moving("a", "b", null).agent("b", idle(0)).stop("a", G, true, 0),
                        "Assign(b) Moved(a->b OTHER)"),
                row(
                        "a host stop from before the unassignment proves nothing: stop again",
                        w -> w.moving("a", "b", null).agent("b", idle(0)).stop("a", G - 1, true, 0),
                        "StopHost(a@100)"),
                row(
                        "agentless source whose host stop failed: blocked with proceed, even long after grace",
                        w -> w.moving("x", "a", null).agent("a", idle(0)).stop("x", G, false, 0),
                        "MoveBlocked(x)"),
                row(
                        "operator failover during an agentless remote restart: the stop waits in x's queue, no second",
                        w -> w.moving("x", "a", "r1")
                                .agent("a", idle(0))
                                .stop("x", G, null, 0)
                                .busy("x"),
                        ""),
                row(
                        "target with SSH work in flight is not assigned until that work ends",
                        w -> w.moving("a", "x", null).agent("a", idle(G)).busy("x"),
                        ""),
                row(
                        "every source left, but a live agent still reports a scheduler starting: assign nothing (S1)",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(0))
                                .agent("c", starting(0)),
                        ""),
                row(
                        "the target is no longer eligible: the first eligible node instead",
                        w -> w.moving("a", "b", null).agent("a", idle(G)).agent("c", idle(0)),
                        "Assign(a) Moved(a->a OTHER)"),
                row(
                        "no node is eligible: alert, assign nothing",
                        w -> w.moving("a", "b", null)
                                .agent("a", failed(3, G))
                                .unreachable("x")
                                .stop("x", G, true, 0),
                        "NoEligible"),
                row(
                        "legacy moving znode without movingFrom: every listed node must prove it stopped",
                        w -> w.moving(null, "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(G))
                                .agent("c", idle(G - 1)),
                        "StopHost(x@100)"),
                // --- no assignment, or an unreadable one
                row(
                        "new cluster: a move from anywhere to the first eligible node",
                        w -> w.agent("a", idle(null)).agent("b", idle(null)),
                        "BeginMove(*->a OTHER)"),
                row(
                        "a move from anywhere finishes only when every node, the agentless one too, is proven stopped",
                        w -> w.moving(null, "a", null)
                                .agent("a", idle(G))
                                .agent("b", idle(G))
                                .agent("c", idle(G))
                                .stop("x", G, true, 0),
                        "Assign(a) Moved(*->a OTHER)"),
                row(
                        "unreadable scheduler znode and nobody runs it: a move from anywhere",
                        w -> w.unreadable().agent("a", idle(0)).agent("b", idle(0)),
                        "BeginMove(*->a OTHER)"),
                row(
                        "unreadable scheduler znode, exactly one agent runs it: repaired in place, no restart (S5)",
                        w -> w.unreadable().agent("a", idle(0)).agent("b", running(0)),
                        "Assign(b)"),
                row(
                        "unreadable scheduler znode, one runs it but another record is unreadable: a move from anywhere",
                        w -> w.unreadable().agent("b", running(0)).unreadableAgent("c"),
                        "BeginMove(*->b OTHER)"),
                // --- a node holds the assignment
                row(
                        "new leader keeps the assignment while its agent lives: re-stamped, no restart (S5)",
                        w -> w.assigned("a", EPOCH - 1).agent("a", running(0)).agent("b", idle(0)),
                        "Supervise(-) Assign(a)"),
                row(
                        "assigned node runs it: a failover under way is complete",
                        w -> w.assigned("a", EPOCH).agent("a", running(0)),
                        "Supervise(-) MoveCompleted"),
                row(
                        "assigned agent gone (session ended): a move to the next eligible node",
                        w -> w.assigned("a", EPOCH).agent("b", idle(0)).agent("c", idle(0)),
                        "Supervise(-) BeginMove(a->b AGENT_LOST)"),
                row(
                        "assigned agent gone and a new leader: a move, not a re-stamp",
                        w -> w.assigned("a", EPOCH - 1).agent("b", idle(0)),
                        "Supervise(-) BeginMove(a->b AGENT_LOST)"),
                row(
                        "scheduler failed max-restarts-before-failover times: quarantine, then move",
                        w -> w.assigned("a", EPOCH).agent("a", failed(3, 0)).agent("b", idle(0)),
                        "Supervise(-) Quarantine(a 10s #1) BeginMove(a->b SCHEDULER_FAILED)"),
                row(
                        "agentless holder unreachable over SSH with proceed: keeps the assignment, no move",
                        w -> w.assigned("x", EPOCH)
                                .agent("a", idle(0))
                                .unreachable("x")
                                .failures("x", 5),
                        "Supervise(x)"),
                row(
                        "agentless holder failed too often: quarantine, then move",
                        w -> w.assigned("x", EPOCH).agent("a", idle(0)).failures("x", 3),
                        "Supervise(x) Quarantine(x 10s #1) BeginMove(x->a SCHEDULER_FAILED)"),
                row(
                        "agentless holder and a new leader: re-stamped first",
                        w -> w.assigned("x", EPOCH - 1).agent("a", idle(0)),
                        "Assign(x)"),
                row(
                        "quarantined node whose agent reports a clean start gets another chance",
                        w -> w.assigned("b", EPOCH)
                                .agent("a", idle(0))
                                .agent("b", running(0))
                                .quarantined("a"),
                        "Lift(a -) Supervise(-) MoveCompleted"),
                // --- quarantine that heals (issue 17, "Recovery")
                row(
                        "shared fault: every node quarantined; the first backoff that ends lifts its node for one"
                                + " attempt, and the move takes it at once",
                        w -> w.moving("c", null, null)
                                .agent("a", failed(3, G))
                                .agent("b", failed(3, G))
                                .agent("c", failed(3, G))
                                .quarantined("a", -1_000, 1)
                                .quarantined("b", 5_000, 1)
                                .quarantined("c", 9_000, 1)
                                .unreachable("x")
                                .stop("x", G, true, 0),
                        "Lift(a trial@3) Assign(a) Moved(c->a OTHER)"),
                row(
                        "a quarantine whose backoff has not ended stays",
                        w -> w.assigned("b", EPOCH)
                                .agent("a", failed(3, 0))
                                .agent("b", running(0))
                                .quarantined("a", 5_000, 1),
                        "Supervise(-) MoveCompleted"),
                row(
                        "an older quarantine record without until ends one quarantine-backoff after it was written",
                        w -> w.assigned("b", EPOCH)
                                .agent("a", failed(3, 0))
                                .agent("b", running(0))
                                .legacyQuarantine("a", 11_000),
                        "Lift(a trial@3) Supervise(-) MoveCompleted"),
                row(
                        "a lifted node whose agent still reports the count it was quarantined with is not"
                                + " quarantined again",
                        w -> w.assigned("a", EPOCH).agent("a", running(3, 0)).trial("a", 3, 1),
                        "Supervise(-) MoveCompleted"),
                row(
                        "a lifted node that fails once more is quarantined again for twice as long, and left",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", failed(4, 0))
                                .agent("b", idle(0))
                                .trial("a", 3, 1),
                        "Supervise(-) Quarantine(a 20s #2) BeginMove(a->b SCHEDULER_FAILED)"),
                row(
                        "the doubling stops at max-quarantine-backoff",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", failed(4, 0))
                                .agent("b", idle(0))
                                .trial("a", 3, 3),
                        "Supervise(-) Quarantine(a 40s #4) BeginMove(a->b SCHEDULER_FAILED)"),
                row(
                        "a lifted node not holding the assignment that failed again is quarantined again",
                        w -> w.assigned("b", EPOCH)
                                .agent("a", failed(4, 0))
                                .agent("b", running(0))
                                .trial("a", 3, 1),
                        "Quarantine(a 20s #2) Supervise(-) MoveCompleted"),
                row(
                        "a lifted node that ran cleanly (its agent cleared its count) forgets its failures",
                        w -> w.assigned("a", EPOCH).agent("a", running(0)).trial("a", 3, 2),
                        "Recovered(a -) Supervise(-) MoveCompleted"),
                row(
                        "a lifted agentless node seen running with no failure forgets its failures",
                        w -> w.assigned("x", EPOCH)
                                .agent("a", idle(0))
                                .trial("x", 0, 1)
                                .agentlessRunning("x"),
                        "Recovered(x -) Supervise(x)"),
                row(
                        "a lifted agentless node that fails once is quarantined again",
                        w -> w.assigned("x", EPOCH)
                                .agent("a", idle(0))
                                .trial("x", 0, 1)
                                .failures("x", 1),
                        "Supervise(x) Quarantine(x 20s #2) BeginMove(x->a SCHEDULER_FAILED)"),
                // --- cordon and drain (issue 17, "Maintenance")
                row(
                        "a cordoned node is never chosen for a new cluster",
                        w -> w.agent("a", idle(null)).agent("b", idle(null)).cordoned("a"),
                        "BeginMove(*->b OTHER)"),
                row(
                        "a cordoned node is never the target of a takeover",
                        w -> w.assigned("a", EPOCH)
                                .agent("b", idle(0))
                                .agent("c", idle(0))
                                .cordoned("b"),
                        "Supervise(-) BeginMove(a->c AGENT_LOST)"),
                row(
                        "a move whose target was cordoned meanwhile finishes on the next eligible node",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(0))
                                .agent("c", idle(0))
                                .cordoned("b"),
                        "Assign(a) Moved(a->a OTHER)"),
                row(
                        "a cordoned node that holds the scheduler keeps it: cordon is not drain",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .cordoned("a"),
                        "Supervise(-) MoveCompleted"),
                row(
                        "failover --to a cordoned node is refused",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .cordoned("b")
                                .request("b", Duration.ofSeconds(10)),
                        "Answer(refused)"),
                row(
                        "cordon: written with the answer, the scheduler stays",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .nodeRequest("cordon", "b"),
                        "Operate(b:cordoned node-cordoned done) Supervise(-) MoveCompleted"),
                row(
                        "cordon is answered while paused, and nothing else is decided",
                        w -> w.assigned("a", EPOCH).agent("a", idle(0)).paused().nodeRequest("cordon", "b"),
                        "Operate(b:cordoned node-cordoned done)"),
                row(
                        "uncordon of a cordon-only record deletes it",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .cordoned("b")
                                .nodeRequest("uncordon", "b"),
                        "Operate(b:- node-uncordoned done) Supervise(-) MoveCompleted"),
                row(
                        "drain of the holder: cordon, then a move that leaves it under the leave-rule",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .nodeRequest("drain", "a"),
                        "Operate(a:cordoned node-cordoned -) BeginMove(a->b OPERATOR r1)"),
                row(
                        "drain of a node already cordoned: only the move",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("c", idle(0))
                                .cordoned("a")
                                .nodeRequest("drain", "a"),
                        "BeginMove(a->c OPERATOR r1)"),
                row(
                        "drain of a node that does not hold the scheduler: cordoned and answered",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .nodeRequest("drain", "b"),
                        "Operate(b:cordoned node-cordoned done) Supervise(-) MoveCompleted"),
                row(
                        "drain with no other eligible node is refused and changes nothing",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .unreachable("x")
                                .nodeRequest("drain", "a"),
                        "Operate(refused) Supervise(-) MoveCompleted"),
                row(
                        "drain while paused is refused",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .paused()
                                .nodeRequest("drain", "a"),
                        "Operate(refused)"),
                row(
                        "a node request filed longer than its ttl ago is answered expired, never acted on",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .nodeRequest("drain", "a", Duration.ofMillis(-1)),
                        "Operate(expired) Supervise(-) MoveCompleted"),
                // --- unquarantine and reset-failures
                row(
                        "unquarantine lifts the quarantine now, for one attempt",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", failed(3, 0))
                                .quarantined("b", 30_000, 2)
                                .nodeRequest("unquarantine", "b"),
                        "Operate(b:trial@3 node-unquarantined done) Supervise(-) MoveCompleted"),
                row(
                        "unquarantine of a node that is not quarantined changes nothing",
                        w -> w.assigned("a", EPOCH).agent("a", running(0)).nodeRequest("unquarantine", "b"),
                        "Operate(done) Supervise(-) MoveCompleted"),
                row(
                        "reset-failures of every node: quarantines gone, agents' old counts tolerated",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", failed(3, 0))
                                .agent("c", failed(1, 0))
                                .quarantined("b", 30_000, 3)
                                .nodeRequest("reset-failures", null),
                        "Operate(b:trial@3,c:trial@1 failures-reset done) Supervise(-) MoveCompleted"),
                row(
                        "reset-failures keeps a cordon",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", failed(0, 0))
                                .cordoned("b")
                                .quarantined("b", 30_000, 3)
                                .nodeRequest("reset-failures", "b"),
                        "Operate(b:cordoned failures-reset done) Supervise(-) MoveCompleted"),
                // --- an operator's request
                row(
                        "operator failover: the move begins, carrying the request",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .request("b", Duration.ofSeconds(10)),
                        "BeginMove(a->b OPERATOR r1)"),
                row(
                        "operator failover with no target: the next eligible node",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("c", idle(0))
                                .request("", Duration.ofSeconds(10)),
                        "BeginMove(a->c OPERATOR r1)"),
                row(
                        "a request filed longer than its ttl ago is answered expired, never acted on",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .request("b", Duration.ofMillis(-1)),
                        "Answer(expired)"),
                row(
                        "a request for an ineligible node is refused",
                        w -> w.assigned("a", EPOCH).agent("a", running(0)).request("c", Duration.ofSeconds(10)),
                        "Answer(refused)"),
                row(
                        "a request for the node that got it meanwhile (a takeover moved it there) is done, not refused",
                        w -> w.assigned("a", EPOCH).agent("a", running(0)).request("a", Duration.ofSeconds(10)),
                        "Answer(done)"),
                row(
                        "operator failover with no target and no other eligible node is refused",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .unreachable("x")
                                .request("", Duration.ofSeconds(10)),
                        "Answer(refused)"),
                row(
                        "a failover request without an id is not a request: nothing is answered",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .requestWithoutId("b"),
                        "Supervise(-) MoveCompleted"),
                row(
                        "a request filed exactly its ttl ago is still acted on",
                        w -> w.assigned("a", EPOCH)
                                .agent("a", running(0))
                                .agent("b", idle(0))
                                .request("b", Duration.ZERO),
                        "BeginMove(a->b OPERATOR r1)"),
                // --- edges that mutation testing found unpinned (issue 20)
                row(
                        "cut-off holder: a failed host stop exactly poll-interval ago is tried again",
                        w -> w.moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 2_000)
                                .stop("a", G, false, 1_000),
                        "StopHost(a@100) WakeAt(+3000ms)"),
                row(
                        "cut-off holder, on-unfenceable = wait: blocked, and the failed stop tried again each poll-interval",
                        w -> w.mode(OnUnfenceable.WAIT)
                                .moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 60_000)
                                .stop("a", G, false, 2_000),
                        "StopHost(a@100) MoveBlocked(a)"),
                row(
                        "a live agent that has not reported yet is waited for, never stopped over SSH",
                        w -> w.moving("a", "b", null)
                                .agent("a", running(G - 1))
                                .agent("b", idle(0))
                                .stop("a", G, false, 2_000),
                        ""),
                row(
                        "SSH off: a host stop remembered from before is never tried again",
                        w -> w.noSsh()
                                .moving("a", "b", null)
                                .agent("b", idle(0))
                                .missingFor("a", 1_000)
                                .stop("a", G, false, 2_000),
                        "WakeAt(+4000ms)"),
                row(
                        "every source left, but a live agent still reports a scheduler running: assign nothing (S1)",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(0))
                                .agent("c", running(0)),
                        ""),
                row(
                        "an unreadable agent record does not hold up a move that every source left",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("b", idle(0))
                                .unreadableAgent("c"),
                        "Assign(b) Moved(a->b OTHER)"),
                row(
                        "the target is no longer eligible and the first eligible node is busy: the next one",
                        w -> w.moving("a", "b", null)
                                .agent("a", idle(G))
                                .agent("c", idle(0))
                                .busy("a"),
                        "Assign(c) Moved(a->c OTHER)"),
                row(
                        "unreadable scheduler znode, the one agent that runs it is cordoned: a move from anywhere",
                        w -> w.unreadable()
                                .agent("a", idle(0))
                                .agent("b", running(0))
                                .cordoned("b"),
                        "BeginMove(*->a OTHER)"),
                row(
                        "a move's agentless target on trial that failed again is quarantined, and not assigned",
                        w -> w.moving("a", "x", null)
                                .agent("a", idle(G))
                                .trial("x", 0, 1)
                                .failures("x", 1),
                        "Quarantine(x 20s #2) Assign(a) Moved(a->a OTHER)"),
                row(
                        "the assigned node's agent record is unreadable: nothing is decided about it",
                        w -> w.assigned("a", EPOCH).unreadableAgent("a").agent("b", idle(0)),
                        "Supervise(-)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(String situation, UnaryOperator<World> given, String expected) {
        World w = given.apply(new World());
        ClusterView view = w.view();

        List<Action> actions = placement(w).decide(situation(w));

        assertEquals(expected, render(actions), situation);
        if (view.assignment().present()
                && view.assignment().value().isMoving()
                && actions.stream().anyMatch(a -> a instanceof Action.Assign)) {
            for (String node : LeaveRule.sources(view.assignment(), POLICY.order(view))) {
                LeaveRule.Verdict v = LeaveRule.check(
                        node, G, view, w.memory, new LeaveRule.Terms(POLICY::isAgentless, w.ssh, w.mode, GRACE), NOW);
                assertTrue(v instanceof LeaveRule.Left, situation + ": assigned while " + v.why());
            }
        }
    }

    @org.junit.jupiter.api.Test
    void failoverToACordonedNodeIsRefusedNamingTheCordon() {
        World w = new World()
                .assigned("a", EPOCH)
                .agent("a", running(0))
                .agent("b", idle(0))
                .cordoned("b")
                .request("b", Duration.ofSeconds(10));

        List<Action> actions = placement(w).decide(situation(w));

        Action.Answer answer = (Action.Answer) actions.get(0);
        assertTrue(answer.text().contains("cordoned by alice@ops"), answer::text);
    }

    @org.junit.jupiter.api.Test
    void aMoveFromAnywhereSaysWhy() {
        World fresh = new World().agent("a", idle(null));
        World unreadable = new World().unreadable().agent("a", idle(0));

        assertEquals("initial assignment", beginMove(fresh).reason());
        assertEquals("the assignment was unreadable", beginMove(unreadable).reason());
    }

    @org.junit.jupiter.api.Test
    void aMoveToATargetNoLongerEligibleSaysWhyItWentElsewhere() {
        World w = new World().moving("a", "b", null).agent("a", idle(G)).agent("c", idle(0));

        Action.Assign assign = (Action.Assign) placement(w).decide(situation(w)).get(0);

        assertEquals("moving for the test (b is no longer eligible: no live agent)", assign.reason());
    }

    @org.junit.jupiter.api.Test
    void aRequestWithoutTtlOrFilingTimeNeverExpires() {
        long later = NOW_WALL.plus(Duration.ofDays(365)).toEpochMilli();
        ControlRecord noTtl = ControlRecord.NONE.withRequest("b", "r1", NOW_WALL);
        ControlRecord noTime = ControlRecord.NONE.withRequest("b", "r1", null, Duration.ofSeconds(1));

        assertEquals(false, FailoverRequest.expired(noTtl, later));
        assertEquals(false, FailoverRequest.expired(noTime, later));
        assertEquals(
                true,
                FailoverRequest.expired(
                        ControlRecord.NONE.withRequest("b", "r1", NOW_WALL, Duration.ofMillis(1)), later));
    }

    private static Action.BeginMove beginMove(World w) {
        return (Action.BeginMove) placement(w).decide(situation(w)).get(0);
    }

    /** What the leader of a row remembers of its term. */
    static ControllerMemory memory(World w) {
        return w.memory;
    }

    static Placement placement(World w) {
        return new Placement(
                POLICY, new LeaveRule.Terms(POLICY::isAgentless, w.ssh, w.mode, GRACE), POLL, BACKOFF, MAX_BACKOFF);
    }

    static Placement.Situation situation(World w) {
        return new Placement.Situation(
                w.view(),
                w.memory,
                EPOCH,
                NOW,
                NOW_WALL.toEpochMilli(),
                w.busy,
                w.agentlessFailures,
                w.agentlessRunning);
    }

    private static Arguments row(String situation, UnaryOperator<World> given, String expected) {
        return Arguments.of(situation, given, expected);
    }

    static String render(List<Action> actions) {
        return actions.stream().map(PlacementTest::render).collect(Collectors.joining(" "));
    }

    static String render(Action action) {
        if (action instanceof Action.Lift a) {
            return "Lift(" + render(a.write()) + ")";
        } else if (action instanceof Action.Recovered a) {
            return "Recovered(" + render(a.write()) + ")";
        } else if (action instanceof Action.Operate a) {
            String writes = a.writes().stream()
                    .map(x -> x.node() + ":" + record(x.record()))
                    .collect(Collectors.joining(","));
            String answer = a.answer() == null
                    ? "-"
                    : a.answer().substring(0, a.answer().indexOf(':'));
            return "Operate(" + (writes.isEmpty() ? "" : writes + " ") + (a.event() == null ? "" : a.event() + " ")
                    + answer + ")";
        } else if (action instanceof Action.Assign a) {
            return "Assign(" + a.node() + ")";
        } else if (action instanceof Action.BeginMove a) {
            return "BeginMove(" + or(a.from(), "*") + "->" + or(a.to(), "-") + " " + a.why()
                    + (a.requestId() == null ? "" : " " + a.requestId()) + ")";
        } else if (action instanceof Action.Quarantine a) {
            return "Quarantine(" + a.node() + " " + a.record().backoffMillis() / 1000 + "s #"
                    + a.record().count() + ")";
        } else if (action instanceof Action.StopHost a) {
            return "StopHost(" + a.node() + "@" + a.generation() + ")";
        } else if (action instanceof Action.WakeAt a) {
            return "WakeAt(+" + (a.atNanos() - NOW) / 1_000_000 + "ms)";
        } else if (action instanceof Action.MoveBlocked a) {
            return "MoveBlocked(" + a.node() + ")";
        } else if (action instanceof Action.Moved a) {
            return "Moved(" + or(a.from(), "*") + "->" + a.to() + " " + a.why() + ")";
        } else if (action instanceof Action.Answer a) {
            return "Answer(" + a.text().substring(0, a.text().indexOf(':')) + ")";
        } else if (action instanceof Action.NoEligible) {
            return "NoEligible";
        } else if (action instanceof Action.SuperviseAgentless a) {
            return "Supervise(" + or(a.node(), "-") + ")";
        } else if (action instanceof Action.MoveCompleted) {
            return "MoveCompleted";
        }
        throw new AssertionError("unknown action " + action);
    }

    private static String render(Action.NodeWrite w) {
        return w.node() + " " + record(w.record());
    }

    /** A node record in a few words: "-" when deleted. */
    private static String record(NodeRecord r) {
        if (r == null) {
            return "-";
        }
        List<String> parts = new java.util.ArrayList<>();
        if (r.quarantined()) {
            parts.add("quarantined");
        }
        if (r.onTrial()) {
            parts.add("trial@" + r.failuresAtLift());
        }
        if (r.hasCordon()) {
            parts.add("cordoned");
        }
        return parts.isEmpty() ? "empty" : String.join("+", parts);
    }

    private static String or(String s, String none) {
        return s == null ? none : s;
    }

    static SchedulerState idle(Long observed) {
        return new SchedulerState(false, false, null, null, 0, false, observed);
    }

    static SchedulerState idle(long observed) {
        return idle(Long.valueOf(observed));
    }

    static SchedulerState starting(long observed) {
        return new SchedulerState(false, false, null, null, 0, true, observed);
    }

    static SchedulerState running(long observed) {
        return new SchedulerState(true, true, 42L, NOW_WALL, 0, false, observed);
    }

    static SchedulerState running(int failures, long observed) {
        return new SchedulerState(true, true, 42L, NOW_WALL, failures, false, observed);
    }

    static SchedulerState failed(int failures, long observed) {
        return new SchedulerState(false, false, null, null, failures, false, observed);
    }

    private static Stat stat(long mzxid) {
        Stat stat = new Stat();
        stat.setMzxid(mzxid);
        return stat;
    }

    /** What a row knows: built fluently, then read as a {@link ClusterView}. */
    static final class World {
        private Znode<Assignment> assignment = new Znode<>(Znode.State.ABSENT, null, null);
        private final Map<String, Znode<AgentRecord>> agents = new LinkedHashMap<>();
        private Znode<ControlRecord> control = new Znode<>(Znode.State.ABSENT, null, null);
        private final Map<String, NodeRecord> quarantined = new LinkedHashMap<>();
        private final Map<String, String> unreachable = new LinkedHashMap<>();
        private final ControllerMemory memory = new ControllerMemory();
        private final Set<String> busy = new HashSet<>();
        private final Map<String, Integer> agentlessFailures = new HashMap<>();
        private final Set<String> agentlessRunning = new HashSet<>();
        private boolean ssh = true;
        private OnUnfenceable mode = OnUnfenceable.PROCEED;

        World noSsh() {
            ssh = false;
            return this;
        }

        World mode(OnUnfenceable m) {
            mode = m;
            return this;
        }

        World agent(String node, SchedulerState state) {
            AgentRecord record = new AgentRecord(
                    node,
                    "host-" + node,
                    7,
                    "test",
                    AgentRecord.Role.STANDBY,
                    state,
                    new AgentRecord.Heartbeat(1, NOW_WALL),
                    NOW_WALL);
            agents.put(node, new Znode<>(Znode.State.PRESENT, record, stat(1)));
            return this;
        }

        World unreadableAgent(String node) {
            agents.put(node, new Znode<>(Znode.State.MALFORMED, null, stat(1)));
            return this;
        }

        World assigned(String node, long epoch) {
            assignment = new Znode<>(Znode.State.PRESENT, Assignment.to(node, epoch, NOW_WALL, "assigned"), stat(G));
            return this;
        }

        World moving(String from, String to, String requestId) {
            assignment = new Znode<>(
                    Znode.State.PRESENT,
                    Assignment.moving(from, to, requestId, EPOCH, NOW_WALL, "moving for the test"),
                    stat(G));
            return this;
        }

        World unreadable() {
            assignment = new Znode<>(Znode.State.MALFORMED, null, stat(G));
            return this;
        }

        World request(String to, Duration ttl) {
            control = new Znode<>(
                    Znode.State.PRESENT,
                    ControlRecord.NONE.withRequest(to, "r1", NOW_WALL.minusSeconds(1), ttl.plusSeconds(1)),
                    stat(1));
            return this;
        }

        World requestWithoutId(String to) {
            control = new Znode<>(
                    Znode.State.PRESENT,
                    ControlRecord.NONE.withRequest(to, null, NOW_WALL, Duration.ofSeconds(10)),
                    stat(1));
            return this;
        }

        World quarantined(String node) {
            quarantined.put(node, new NodeRecord(node, true, 3, "failed 3 times in a row", NOW_WALL));
            return this;
        }

        /** Quarantined the {@code count}-th time in a row, ending {@code endsInMillis} from now (negative: ended). */
        World quarantined(String node, long endsInMillis, int count) {
            Duration backoff = BACKOFF.multipliedBy(1L << (count - 1));
            Instant until = NOW_WALL.plusMillis(endsInMillis);
            quarantined.put(
                    node, base(node).quarantine(3, "failed 3 times in a row", until.minus(backoff), backoff, count));
            return this;
        }

        /** A quarantine as an older leader wrote it (no until, no count), {@code agoMillis} ago. */
        World legacyQuarantine(String node, long agoMillis) {
            quarantined.put(
                    node, new NodeRecord(node, true, 3, "failed 3 times in a row", NOW_WALL.minusMillis(agoMillis)));
            return this;
        }

        /** Lifted for one attempt when its failure count was {@code failuresAtLift}, after {@code count} quarantines. */
        World trial(String node, int failuresAtLift, int count) {
            quarantined(node, -1_000, count);
            quarantined.put(node, quarantined.get(node).lift(NOW_WALL.minusMillis(500), failuresAtLift));
            return this;
        }

        World cordoned(String node) {
            NodeRecord r = quarantined.get(node);
            quarantined.put(
                    node,
                    r == null
                            ? NodeRecord.cordon(node, "alice@ops", NOW_WALL.minusSeconds(60))
                            : r.withCordon("alice@ops", NOW_WALL.minusSeconds(60)));
            return this;
        }

        private NodeRecord base(String node) {
            NodeRecord r = quarantined.get(node);
            return r == null ? new NodeRecord(node, false, 0, null, null) : r;
        }

        /** {@code nodes/<node>} exactly as given. */
        World record(NodeRecord r) {
            quarantined.put(r.node(), r);
            return this;
        }

        /** A node request filed by {@code by} (null: the command line did not say who). */
        World nodeRequestBy(String op, String node, String by) {
            ControlRecord c = control.present() ? control.value() : ControlRecord.NONE;
            control = new Znode<>(
                    Znode.State.PRESENT,
                    c.withNodeRequest(op, node, "r1", NOW_WALL.minusSeconds(1), Duration.ofSeconds(11), by),
                    stat(1));
            return this;
        }

        World agentlessRunning(String node) {
            agentlessRunning.add(node);
            return this;
        }

        World paused() {
            ControlRecord c = control.present() ? control.value() : ControlRecord.NONE;
            control = new Znode<>(Znode.State.PRESENT, c.withPaused(true), stat(1));
            return this;
        }

        World nodeRequest(String op, String node) {
            return nodeRequest(op, node, Duration.ofSeconds(10));
        }

        World nodeRequest(String op, String node, Duration ttl) {
            ControlRecord c = control.present() ? control.value() : ControlRecord.NONE;
            control = new Znode<>(
                    Znode.State.PRESENT,
                    c.withNodeRequest(op, node, "r1", NOW_WALL.minusSeconds(1), ttl.plusSeconds(1), "alice@ops"),
                    stat(1));
            return this;
        }

        World unreachable(String node) {
            unreachable.put(node, "connection refused");
            memory.unreachable().put(node, "connection refused");
            return this;
        }

        World missingFor(String node, long millis) {
            memory.seenAbsent(node, NOW - millis * 1_000_000);
            return this;
        }

        /** A host stop queued for the move of {@code generation}; {@code ok} null while in flight. */
        World stop(String node, long generation, Boolean ok, long agoMillis) {
            long at = NOW - agoMillis * 1_000_000;
            memory.hostStopQueued(node, generation, at);
            if (ok != null) {
                memory.hostStopDone(node, ok, ok ? "1 process(es) stopped" : "connection refused", at);
            }
            return this;
        }

        World busy(String node) {
            busy.add(node);
            return this;
        }

        World failures(String node, int n) {
            agentlessFailures.put(node, n);
            return this;
        }

        World reason(FailoverReason why) {
            memory.moveReason(why);
            return this;
        }

        ClusterView view() {
            return new ClusterView(assignment, agents, control, quarantined, unreachable);
        }

        ControllerMemory memory() {
            return memory;
        }

        Set<String> agentlessRunningNodes() {
            return agentlessRunning;
        }
    }
}
