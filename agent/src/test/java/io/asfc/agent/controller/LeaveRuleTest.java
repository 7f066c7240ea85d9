package io.asfc.agent.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The leave-rule as a table: each row is a sequence from issue 16 and the review of c86bae1, the
 * facts the leader has about node X when the scheduler is leaving it (unassigned at generation
 * {@code G = 100}), and what the rule must decide.
 */
class LeaveRuleTest {
    private static final long G = 100;
    private static final long GRACE = 5_000_000_000L;
    private static final long NOW = 1_000_000_000_000L;

    /** What a row knows about X. */
    private record Facts(
            SchedulerState agent, // null: agents/X absent
            boolean agentUnreadable,
            boolean agentless,
            boolean ssh,
            OnUnfenceable onUnfenceable,
            ControllerMemory.HostStop stop,
            Long missingFor) {}

    private static Facts facts() {
        return new Facts(null, false, false, true, OnUnfenceable.PROCEED, null, null);
    }

    private static SchedulerState report(boolean running, Boolean starting, Long observed) {
        return new SchedulerState(running, running, running ? 42L : null, null, 0, starting, observed);
    }

    static Stream<Arguments> rows() {
        ControllerMemory.HostStop inFlight = new ControllerMemory.HostStop(G, NOW, null, "in flight");
        ControllerMemory.HostStop stoppedAfter = new ControllerMemory.HostStop(G, NOW, true, "1 process(es) stopped");
        ControllerMemory.HostStop stoppedBefore =
                new ControllerMemory.HostStop(G - 1, NOW, true, "1 process(es) stopped");
        ControllerMemory.HostStop failed = new ControllerMemory.HostStop(G, NOW, false, "connection refused");
        ControllerMemory.HostStop shellConfirmed =
                new ControllerMemory.HostStop(G, NOW, true, "shell #2 (/usr/local/bin/fence-ipmi): exit 0");
        ControllerMemory.HostStop shellFailed =
                new ControllerMemory.HostStop(G, NOW, false, "shell #1 (/usr/local/bin/fence-ipmi): exit 1");
        Facts f = facts();
        return Stream.of(
                row("(a) agent saw the unassignment and stopped", with(f, report(false, false, G)), "Left"),
                row("(a) a later generation also proves it", with(f, report(false, false, G + 7)), "Left"),
                row(
                        "stale heartbeat: running=false but observed before G (finding 4)",
                        with(f, report(false, false, G - 1)),
                        "AwaitReport"),
                row(
                        "slow command-mode start in progress (starting=true)",
                        with(f, report(false, true, G)),
                        "AwaitReport"),
                row(
                        "older agent without observed/starting proves nothing",
                        with(f, report(false, null, null)),
                        "AwaitReport"),
                row("agent still runs it", with(f, report(true, false, G)), "AwaitReport"),
                row(
                        "agent record unreadable",
                        new Facts(null, true, false, true, OnUnfenceable.PROCEED, null, 0L),
                        "AwaitReport"),
                row(
                        "(b) live agent silent, but this leader stopped X over SSH after G",
                        new Facts(
                                report(true, false, G - 5),
                                false,
                                false,
                                true,
                                OnUnfenceable.PROCEED,
                                stoppedAfter,
                                null),
                        "Left"),
                row(
                        "source agent vanished mid-move, SSH on: stop it first (finding 2)",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, null, GRACE * 10),
                        "NeedHostStop"),
                row(
                        "host stop still in flight (an agentless start may be ahead of it in the queue)",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, inFlight, GRACE * 10),
                        "NeedHostStop"),
                row(
                        "(b) host stopped after G",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, stoppedAfter, 0L),
                        "Left"),
                row(
                        "a stop from before the unassignment proves nothing",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, stoppedBefore, GRACE * 10),
                        "NeedHostStop"),
                row(
                        "stop failed, proceed, grace not over",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, failed, GRACE - 1),
                        "AwaitGrace"),
                row(
                        "(c) stop failed, proceed, grace over",
                        new Facts(null, false, false, true, OnUnfenceable.PROCEED, failed, GRACE),
                        "Left"),
                row(
                        "stop failed, on-unfenceable = wait",
                        new Facts(null, false, false, true, OnUnfenceable.WAIT, failed, GRACE * 10),
                        "Blocked"),
                row(
                        "agentless X unreachable with proceed: never (c) (finding 1)",
                        new Facts(null, false, true, true, OnUnfenceable.PROCEED, failed, GRACE * 10),
                        "Blocked"),
                row(
                        "(b) agentless X stopped over SSH after G",
                        new Facts(null, false, true, true, OnUnfenceable.PROCEED, stoppedAfter, null),
                        "Left"),
                row(
                        "(b) agentless X unreachable over SSH, but a shell: method confirmed it stopped after G",
                        new Facts(null, false, true, true, OnUnfenceable.PROCEED, shellConfirmed, null),
                        "Left"),
                row(
                        "SSH disabled, a shell: method is the only one and it failed: on-unfenceable = wait holds",
                        new Facts(null, false, false, true, OnUnfenceable.WAIT, shellFailed, GRACE * 10),
                        "Blocked"),
                row(
                        "SSH disabled, agent gone: grace from when this leader saw it gone (silent cut)",
                        new Facts(null, false, false, false, OnUnfenceable.PROCEED, null, GRACE - 1),
                        "AwaitGrace"),
                row(
                        "(c) SSH disabled, agent gone for takeover-grace",
                        new Facts(null, false, false, false, OnUnfenceable.PROCEED, null, GRACE),
                        "Left"),
                row(
                        "new leader, never saw X gone yet: grace starts now",
                        new Facts(null, false, false, false, OnUnfenceable.PROCEED, null, null),
                        "AwaitGrace"));
    }

    private static Facts with(Facts f, SchedulerState agent) {
        return new Facts(agent, false, f.agentless(), f.ssh(), f.onUnfenceable(), f.stop(), f.missingFor());
    }

    private static Arguments row(String sequence, Facts facts, String expected) {
        return Arguments.of(sequence, facts, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(String sequence, Facts facts, String expected) {
        Map<String, Znode<AgentRecord>> agents = new LinkedHashMap<>();
        if (facts.agentUnreadable()) {
            agents.put("x", new Znode<>(Znode.State.MALFORMED, null, new Stat()));
        } else if (facts.agent() != null) {
            agents.put("x", new Znode<>(Znode.State.PRESENT, agent(facts.agent()), new Stat()));
        }
        ClusterView view = view(moving("x"), agents);
        ControllerMemory memory = new ControllerMemory();
        if (facts.missingFor() != null) {
            memory.seenAbsent("x", NOW - facts.missingFor());
        }
        if (facts.stop() != null) {
            memory.hostStopQueued("x", facts.stop().generation(), NOW);
            if (!facts.stop().inFlight()) {
                memory.hostStopDone("x", facts.stop().ok(), facts.stop().detail(), NOW);
            }
        }
        LeaveRule.Terms terms =
                new LeaveRule.Terms(n -> facts.agentless() && n.equals("x"), facts.ssh(), facts.onUnfenceable(), GRACE);

        LeaveRule.Verdict v = LeaveRule.check("x", G, view, memory, terms, NOW);

        assertEquals(expected, v.getClass().getSimpleName(), sequence + ": " + v.why());
        assertTrue(!v.why().isBlank(), "every verdict says why");
    }

    @Test
    void aKnownSourceIsTheOnlyNodeToCheck() {
        ClusterView view = view(moving("a"), Map.of());
        assertEquals(
                List.of("a"),
                LeaveRule.sources(
                        view.assignment(), policy(List.of("a", "b", "c")).order(view)));
    }

    @Test
    void anUnknownSourceMeansEveryListedNodeOrEveryLiveAgent() {
        Map<String, Znode<AgentRecord>> agents = new LinkedHashMap<>();
        agents.put("z", new Znode<>(Znode.State.PRESENT, agent(report(false, false, G)), new Stat()));
        // a leader that died mid-move on the previous version wrote no movingFrom
        Znode<Assignment> legacy = new Znode<>(
                Znode.State.PRESENT,
                Json.decode(
                                "/scheduler",
                                "{\"node\":null,\"epoch\":3,\"assignedAt\":\"2026-12-01T00:00:00Z\",\"reason\":\"moving\"}"
                                        .getBytes(StandardCharsets.UTF_8),
                                Assignment.class)
                        .orElseThrow(),
                stat(G));
        ClusterView view = new ClusterView(legacy, agents, absentControl(), Map.of(), Map.of());
        assertEquals(
                List.of("a", "b"),
                LeaveRule.sources(legacy, policy(List.of("a", "b")).order(view)));
        ClusterView empty = new ClusterView(
                new Znode<>(Znode.State.ABSENT, null, null), agents, absentControl(), Map.of(), Map.of());
        assertEquals(
                List.of("a", "b"),
                LeaveRule.sources(empty.assignment(), policy(List.of("a", "b")).order(empty)));
        assertEquals(
                List.of("z"),
                LeaveRule.sources(empty.assignment(), policy(List.of()).order(empty)),
                "nodes = []: every live agent");
    }

    @Test
    void olderRecordsWithoutTheNewFieldsStillRead() {
        String old = "{\"node\":\"a\",\"host\":\"h\",\"pid\":1,\"version\":\"0.9\",\"role\":\"STANDBY\","
                + "\"scheduler\":{\"running\":false,\"healthy\":false,\"pid\":null,\"since\":null,\"failures\":0},"
                + "\"heartbeat\":{\"seq\":1,\"at\":\"2026-12-01T00:00:00Z\"},\"startedAt\":\"2026-12-01T00:00:00Z\"}";
        AgentRecord record = Json.decode("/agents/a", old.getBytes(StandardCharsets.UTF_8), AgentRecord.class)
                .orElseThrow();
        assertEquals(null, record.scheduler().observed());
        assertTrue(!record.scheduler().provesStoppedSince(1), "an older agent's report proves nothing");
        String noEpoch = "{\"node\":\"a\",\"assignedAt\":\"2026-12-01T00:00:00Z\"}";
        assertTrue(
                Json.decode("/scheduler", noEpoch.getBytes(StandardCharsets.UTF_8), Assignment.class)
                        .isEmpty(),
                "a required field missing is still malformed");
    }

    private static Policy policy(List<String> nodes) {
        return new Policy(nodes, java.util.Set.of(), 3);
    }

    private static ClusterView view(Znode<Assignment> assignment, Map<String, Znode<AgentRecord>> agents) {
        return new ClusterView(assignment, agents, absentControl(), Map.of(), Map.of());
    }

    private static Znode<ControlRecord> absentControl() {
        return new Znode<>(Znode.State.ABSENT, null, null);
    }

    private static Znode<Assignment> moving(String from) {
        return new Znode<>(
                Znode.State.PRESENT,
                Assignment.moving(from, "b", null, 3, Instant.parse("2026-12-01T00:00:00Z"), "moving"),
                stat(G));
    }

    private static Stat stat(long mzxid) {
        Stat stat = new Stat();
        stat.setMzxid(mzxid);
        return stat;
    }

    private static AgentRecord agent(SchedulerState state) {
        return new AgentRecord(
                "x",
                "host-x",
                7,
                "test",
                AgentRecord.Role.STANDBY,
                state,
                new AgentRecord.Heartbeat(1, Instant.parse("2026-12-01T00:00:00Z")),
                Instant.parse("2026-12-01T00:00:00Z"));
    }

    /** The verdict for {@code a}, moving to {@code b}, as PlacementTest's leader sees it. */
    private static LeaveRule.Verdict verdict(PlacementTest.World w, boolean ssh, OnUnfenceable mode, long grace) {
        return LeaveRule.check(
                "a",
                G,
                w.view(),
                PlacementTest.memory(w),
                new LeaveRule.Terms(PlacementTest.POLICY::isAgentless, ssh, mode, grace),
                NOW);
    }

    @Test
    void eachVerdictSaysWhyForTheAlertAndTheEvent() {
        PlacementTest.World unreadable =
                new PlacementTest.World().moving("a", "b", null).unreadableAgent("a");
        PlacementTest.World stale =
                new PlacementTest.World().moving("a", "b", null).agent("a", report(false, false, G - 1));
        PlacementTest.World goneStopFailed = new PlacementTest.World()
                .moving("a", "b", null)
                .missingFor("a", 60_000)
                .stop("a", G, false, 0);
        PlacementTest.World goneNoSsh =
                new PlacementTest.World().moving("a", "b", null).missingFor("a", 60_000);

        assertEquals(
                "waiting for a's agent to report its scheduler stopped after generation 100 (its record is unreadable)",
                verdict(unreadable, true, OnUnfenceable.PROCEED, GRACE).why());
        assertEquals(
                "waiting for a's agent to report its scheduler stopped after generation 100",
                verdict(stale, true, OnUnfenceable.PROCEED, GRACE).why());
        assertEquals(
                "(c) its agent is gone, no fencing method confirmed it stopped (connection refused), and"
                        + " takeover-grace 5000ms has passed (its self-fencing covers it)",
                verdict(goneStopFailed, true, OnUnfenceable.PROCEED, GRACE).why());
        assertEquals(
                "(c) its agent is gone, no fencing method is available (SSH is disabled), and takeover-grace"
                        + " 5000ms has passed (its self-fencing covers it)",
                verdict(goneNoSsh, false, OnUnfenceable.PROCEED, GRACE).why());
        assertEquals(
                "a's agent is gone and no fencing method confirmed it stopped (connection refused);"
                        + " on-unfenceable = wait",
                verdict(goneStopFailed, true, OnUnfenceable.WAIT, GRACE).why());
    }

    @Test
    void withSshDisabledOnUnfenceableWaitDoesNotApply() {
        PlacementTest.World gone =
                new PlacementTest.World().moving("a", "b", null).missingFor("a", 60_000);

        assertTrue(verdict(gone, false, OnUnfenceable.WAIT, GRACE) instanceof LeaveRule.Left);
    }

    @Test
    void graceCountsOnlyFromWhenThisLeaderSawTheAgentGone() {
        PlacementTest.World neverSeen = new PlacementTest.World().moving("a", "b", null);
        PlacementTest.World seen =
                new PlacementTest.World().moving("a", "b", null).missingFor("a", 0);

        LeaveRule.Verdict v = verdict(neverSeen, false, OnUnfenceable.PROCEED, 0);
        assertTrue(v instanceof LeaveRule.AwaitGrace, "a zero grace still needs this leader to have seen it gone");
        assertTrue(verdict(seen, false, OnUnfenceable.PROCEED, 0) instanceof LeaveRule.Left);
    }
}
