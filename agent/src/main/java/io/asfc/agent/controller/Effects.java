package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.election.Lease;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.ZkPaths;
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.curator.framework.CuratorFramework;

/**
 * The effects of {@link Placement}'s actions, done in the order given, on the controller thread:
 * fenced writes through {@link AssignmentStore}, events, alerts and metrics through the reports,
 * SSH work through {@link HostStopper} and {@link AgentlessSupervisor}, and when to decide again.
 */
final class Effects {
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final AssignmentStore store;
    private final MoveReports reports;
    private final NodeReports nodeReports;
    private final HostStopper hostStops;
    private final AgentlessSupervisor agentless;
    private final Runnable wake;
    private final LongConsumer stepAt;
    private final Runnable retryLater;

    /**
     * @param wake decide again soon
     * @param stepAt decide again at the given time of the leader's monotonic clock
     * @param retryLater decide again after a poll interval (a blocked move)
     */
    Effects(
            CuratorFramework client,
            ZkPaths paths,
            AssignmentStore store,
            MoveReports reports,
            NodeReports nodeReports,
            HostStopper hostStops,
            AgentlessSupervisor agentless,
            Runnable wake,
            LongConsumer stepAt,
            Runnable retryLater) {
        this.client = client;
        this.paths = paths;
        this.store = store;
        this.reports = reports;
        this.nodeReports = nodeReports;
        this.hostStops = hostStops;
        this.agentless = agentless;
        this.wake = wake;
        this.stepAt = stepAt;
        this.retryLater = retryLater;
    }

    /** One action of {@link Placement}, with the view it was decided from (writes check its versions). */
    void execute(Lease l, ClusterView view, ControllerMemory memory, Action action) {
        if (action instanceof Action.Lift a) {
            store.writeNodes(l, view, List.of(a.write()), null);
            nodeReports.lifted(a);
        } else if (action instanceof Action.Recovered a) {
            store.writeNodes(l, view, List.of(a.write()), null);
            nodeReports.recovered(a);
        } else if (action instanceof Action.Operate a) {
            store.writeNodes(l, view, a.writes(), a.answer());
            nodeReports.operated(a);
        } else if (action instanceof Action.Assign a) {
            store.assign(l, view, a.node(), a.reason());
            reports.assigned(memory, a.node(), l.epoch(), a.reason());
        } else if (action instanceof Action.BeginMove a) {
            reports.began(a);
            memory.moveReason(a.why());
            String text = "moving" + (a.from() == null ? "" : " from " + a.from())
                    + (a.to() == null ? "" : " to " + a.to()) + ": " + a.reason();
            store.beginMove(l, view, a.from(), a.to(), a.requestId(), text);
            wake.run();
        } else if (action instanceof Action.Quarantine a) {
            store.writeNodes(l, view, List.of(new Action.NodeWrite(a.node(), a.record())), null);
            nodeReports.quarantined(a);
            if (a.agentless()) {
                agentless.quarantined(a.node());
            }
        } else if (action instanceof Action.StopHost a) {
            hostStops.stop(l, a.node(), a.generation());
        } else if (action instanceof Action.WakeAt a) {
            stepAt.accept(a.atNanos());
        } else if (action instanceof Action.MoveBlocked a) {
            hostStops.blocked(a.node(), a.why());
            retryLater.run();
        } else if (action instanceof Action.Moved a) {
            memory.moveReason(null);
            reports.moved(a);
            answer(l, a);
        } else if (action instanceof Action.Answer a) {
            store.answer(l, view, a.text());
        } else if (action instanceof Action.NoEligible a) {
            reports.noEligible(memory, a.why());
        } else if (action instanceof Action.SuperviseAgentless a) {
            if (a.node() == null) {
                agentless.unassigned();
            } else {
                agentless.assigned(a.node());
            }
        } else if (action instanceof Action.MoveCompleted) {
            reports.completed();
        }
    }

    /** Answers the operator's request a finished move carried, if {@code control} still holds it. */
    private void answer(Lease l, Action.Moved m) {
        if (m.requestId() == null) {
            return;
        }
        // read now: the move's first phase wrote it ("accepted: ...")
        Znode<ControlRecord> control = Znode.read(client, paths.control(), ControlRecord.class);
        if (control.present() && m.requestId().equals(control.value().requestId())) {
            store.answer(l, control, "moved to " + m.to() + (m.requestedTarget() ? "" : ": " + m.reason()));
        }
    }
}
