package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;

/**
 * The controller's writes: the only writer of the {@code scheduler} znode (an assignment, or the
 * first phase of a move), of {@code nodes/<node>} (quarantines, cordons) and of the answer in {@code
 * control}. Every write is a {@link FencedWriter#commit} under the leader's lease (S2), and a write
 * of a znode that was read is conditional on the version read. It decides nothing: the {@link
 * Controller} says what to write. Called on the controller's single executor thread.
 */
final class AssignmentStore {
    private final CuratorFramework client;
    private final ZkPaths paths;
    private final FencedWriter writer;
    private final EventLog events;
    private final Clock clock;

    AssignmentStore(CuratorFramework client, ZkPaths paths, FencedWriter writer, EventLog events, Clock clock) {
        this.client = client;
        this.paths = paths;
        this.writer = writer;
        this.events = events;
        this.clock = clock;
    }

    /** Assigns the scheduler to {@code node} at this leader's epoch. */
    void assign(Lease l, ClusterView view, String node, String reason) {
        Assignment a = Assignment.to(node, l.epoch(), clock.instant(), reason);
        ZkException.call(paths.scheduler(), () -> writer.commit(l, List.of(assignmentOp(view, a))));
    }

    /**
     * The first phase of a move: nobody is assigned, and the znode records where the scheduler is
     * leaving ({@code from}, null when unknown) and where it goes ({@code to}, null when nowhere yet).
     */
    void beginMove(Lease l, ClusterView view, String from, String to, String requestId, String text) {
        ZkException.call(paths.scheduler(), () -> writer.commit(l, moveOps(l, view, from, to, requestId, text)));
        events.record("scheduler-moving", text);
    }

    private List<CuratorOp> moveOps(Lease l, ClusterView view, String from, String to, String requestId, String text)
            throws Exception {
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(assignmentOp(view, Assignment.moving(from, to, requestId, l.epoch(), clock.instant(), text)));
        if (requestId != null) {
            // Accepted in the same transaction: the command line can withdraw a request only while
            // no leader has taken it (its write checks the version this one changes), so a request
            // reported failed is never acted on.
            ControlRecord accepted = view.control().value().withResult(ControlRecord.ACCEPTED + text, clock.instant());
            ops.add(writer.ops()
                    .setData()
                    .withVersion(view.control().stat().getVersion())
                    .forPath(paths.control(), Json.encode(accepted)));
        }
        return ops;
    }

    /**
     * Writes {@code nodes/<node>} records (a null record deletes the znode) and, when {@code answer}
     * is not null, answers the operator's request in {@code control} as read in {@code view}, all in
     * one fenced transaction.
     */
    void writeNodes(Lease l, ClusterView view, List<Action.NodeWrite> writes, String answer) {
        ZkException.call(paths.nodes(), () -> {
            List<CuratorOp> ops = nodeOps(view, writes, answer);
            if (!ops.isEmpty()) {
                writer.commit(l, ops);
            }
            return null;
        });
    }

    private List<CuratorOp> nodeOps(ClusterView view, List<Action.NodeWrite> writes, String answer) throws Exception {
        List<CuratorOp> ops = new ArrayList<>();
        if (!writes.isEmpty()) {
            client.createContainers(paths.nodes());
        }
        for (Action.NodeWrite w : writes) {
            String path = paths.node(w.node());
            boolean exists = client.checkExists().forPath(path) != null;
            if (w.record() == null) {
                if (exists) {
                    ops.add(writer.ops().delete().forPath(path));
                }
            } else {
                byte[] data = Json.encode(w.record());
                ops.add(
                        exists
                                ? writer.ops().setData().forPath(path, data)
                                : writer.ops().create().forPath(path, data));
            }
        }
        if (answer != null) {
            ControlRecord answered = view.control().value().withResult(answer, clock.instant());
            ops.add(writer.ops()
                    .setData()
                    .withVersion(view.control().stat().getVersion())
                    .forPath(paths.control(), Json.encode(answered)));
        }
        return ops;
    }

    /** Answers the operator's request in {@code control}, as read in {@code view}. */
    void answer(Lease l, ClusterView view, String text) {
        answer(l, view.control(), text);
    }

    /** Answers the operator's request in {@code control}, as read (the write checks its version). */
    void answer(Lease l, Znode<ControlRecord> control, String text) {
        ControlRecord answered = control.value().withResult(text, clock.instant());
        ZkException.call(
                paths.control(),
                () -> writer.commit(
                        l,
                        List.of(writer.ops()
                                .setData()
                                .withVersion(control.stat().getVersion())
                                .forPath(paths.control(), Json.encode(answered)))));
        events.record("failover-request", text);
    }

    private CuratorOp assignmentOp(ClusterView view, Assignment a) throws Exception {
        Znode<Assignment> current = view.assignment();
        byte[] data = Json.encode(a);
        return current.absent()
                ? writer.ops().create().forPath(paths.scheduler(), data)
                : writer.ops()
                        .setData()
                        .withVersion(current.stat().getVersion())
                        .forPath(paths.scheduler(), data);
    }
}
