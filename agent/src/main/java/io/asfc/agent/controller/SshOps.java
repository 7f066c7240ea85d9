package io.asfc.agent.controller;

import io.asfc.agent.cluster.Znode;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.election.Lease;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshException;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.ssh.StaleEpochException;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ZkException;
import io.asfc.common.zk.ZkPaths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACTIVE controller's SSH side: looks at, stops and starts schedulers on other nodes. Its
 * methods block (bounded by the SSH timeouts) and run on the SSH pool, never on the controller
 * thread; they return what happened and leave every decision to the {@link Controller}.
 */
final class SshOps {
    private static final Logger LOG = LoggerFactory.getLogger(SshOps.class);

    /** What one sweep of a node found and did. */
    sealed interface Swept permits Clean, StrayStopped, Skipped, Unreachable {
        String node();
    }

    record Clean(String node) implements Swept {}

    record StrayStopped(String node, String seen, RemoteScheduler.Stop stop) implements Swept {}

    /** A scheduler was seen, but the node was assigned meanwhile, or this leadership ended. */
    record Skipped(String node, String why) implements Swept {}

    record Unreachable(String node, SshException error) implements Swept {}

    /** One look at a node: what runs there, or why it could not be seen. */
    record Looked(RemoteScheduler.Look look, SshException error) {}

    /** The result of a host stop: the node's scheduler is confirmed stopped, or it could not be. */
    record HostStopped(String node, RemoteScheduler.Stop stop, Exception error) {
        boolean ok() {
            return error == null;
        }

        String describe() {
            return ok() ? stop.describe() : error.getMessage();
        }
    }

    private final CuratorFramework client;
    private final ZkPaths paths;
    private final FencedWriter writer;
    private final RemoteScheduler remote;
    private final Function<String, SshTarget> targets;
    private final Metrics metrics;
    /** The pid of the last start launched on each node, until a host stop there ended it (SSH threads). */
    private final Map<String, Long> launched = new java.util.concurrent.ConcurrentHashMap<>();

    SshOps(
            CuratorFramework client,
            ZkPaths paths,
            FencedWriter writer,
            RemoteScheduler remote,
            Function<String, SshTarget> targets,
            Metrics metrics) {
        this.client = client;
        this.paths = paths;
        this.writer = writer;
        this.remote = remote;
        this.targets = targets;
        this.metrics = metrics;
    }

    /**
     * Looks for a scheduler on a node that must not run one, and stops exactly the processes it
     * saw, after proving (in a fenced transaction) that this leadership still holds and the node is
     * still not assigned. A scheduler started after the look is never touched.
     */
    Swept sweep(Lease lease, String node) {
        SshTarget target = targets.apply(node);
        try {
            RemoteScheduler.Look look = remote.look(target);
            if (!look.anyMatch()) {
                return new Clean(node);
            }
            String why = stillStray(lease, node);
            if (why != null) {
                return new Skipped(node, why);
            }
            fence(lease, target);
            return new StrayStopped(
                    node,
                    look.describe(),
                    remote.stopExactly(target, look.trees().values()));
        } catch (SshException e) {
            metrics.sshFailed(e.reason());
            return new Unreachable(node, e);
        }
    }

    /**
     * HostStop: stops every scheduler process on a node that must not run one (its agent is gone,
     * or it has none), after proving in a fenced transaction that this leadership still holds, so
     * a deposed leader's queued stop never kills the scheduler its successor placed there.
     */
    HostStopped hostStop(Lease lease, String node) {
        // The last start this leader launched there may still be a start-command on its way, without
        // the scheduler's title: its tree is stopped too. (Ops on a node run in order, so a start
        // queued before this stop has recorded its pid by now.)
        Long started = launched.get(node);
        try {
            SshTarget target = targets.apply(node);
            fence(lease, target);
            // proved after every look, before every kill: what a deposed leader saw is never signalled
            HostStopped stopped = new HostStopped(
                    node,
                    remote.stopAll(target, started == null ? Set.of() : Set.of(started), () -> prove(lease)),
                    null);
            launched.remove(node, started);
            return stopped;
        } catch (SshException e) {
            metrics.sshFailed(e.reason());
            return new HostStopped(node, null, e);
        }
    }

    /**
     * Records this leadership's epoch on the node before stopping there, so a start an older leader
     * sent is refused by the host from now on (a start that got in first is what the stop sees). A
     * failure to record never holds the stop back: it is logged, and the stop goes on.
     */
    private void fence(Lease lease, SshTarget target) {
        try {
            remote.fence(target, lease.epoch());
        } catch (SshException e) {
            metrics.sshFailed(e.reason());
            LOG.warn(
                    "{}: could not record the fencing token before stopping; stopping all the same: {}",
                    target.node(),
                    e.getMessage());
        }
    }

    private void prove(Lease lease) throws SshException {
        try {
            writer.commit(lease, List.of(writer.ops().check().forPath(paths.epoch())));
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new SshException(
                    SshException.Reason.COMMAND_FAILED, "not stopped: cannot prove leadership: " + e.getMessage(), e);
        }
    }

    Looked look(String node) {
        try {
            return new Looked(remote.look(targets.apply(node)), null);
        } catch (SshException e) {
            metrics.sshFailed(e.reason());
            return new Looked(null, e);
        }
    }

    /**
     * S3 for an agentless node: starts its scheduler only if a fenced check proves that this
     * leadership holds and the node is assigned at this epoch.
     *
     * @return the started pid, or -1 when the check refused
     */
    long startIfAssigned(Lease lease, String node) throws SshException {
        Znode<Assignment> a = freshAssignment();
        if (!a.present() || !node.equals(a.value().node()) || a.value().epoch() != lease.epoch()) {
            return -1;
        }
        proveUnchanged(lease, a);
        try {
            SshTarget target = targets.apply(node);
            // No scheduler runs there (the caller looked), but what a dead one left may: its helpers.
            // Fenced first, so an older leader's start cannot land between this stop and this start.
            fence(lease, target);
            RemoteScheduler.Stop leftovers = remote.stopAll(target);
            if (leftovers.signalled() > 0) {
                LOG.info("{}: stopped what a dead scheduler left before starting one: {}", node, leftovers.describe());
            }
            long pid = remote.start(target, lease.epoch());
            launched.put(node, pid);
            return pid;
        } catch (StaleEpochException e) {
            return refused(lease, node, e);
        } catch (SshException e) {
            metrics.sshFailed(e.reason());
            throw e;
        }
    }

    /**
     * A start the host refused by its token. Deposed (the usual case: a newer leader fenced the
     * node after this start's proof), the start is dropped, not counted as a failure. Still leading,
     * no newer leadership can exist, so the token outlived ZooKeeper's data (a wiped ensemble starts
     * epochs again): an operator must remove the file, and the refusal counts as a failed start.
     */
    private long refused(Lease lease, String node, StaleEpochException e) throws SshException {
        try {
            prove(lease);
        } catch (SshException deposed) {
            LOG.info("{}: a deposed leadership's start was dropped: {}", node, e.getMessage());
            return -1;
        }
        LOG.error(
                "{}: {}; yet epoch {} is the current leadership, so no newer one exists: the token is older than"
                        + " ZooKeeper's data (wiped or restored?). Make sure no scheduler runs on {}, then remove"
                        + " the token file there (docs/RUNBOOK.md)",
                node,
                e.getMessage(),
                e.epoch(),
                node);
        metrics.sshFailed(e.reason());
        throw e;
    }

    /** Null when the node may be swept: this leadership holds and the node is not assigned. */
    private String stillStray(Lease lease, String node) {
        try {
            Znode<Assignment> a = freshAssignment();
            if (a.present() && node.equals(a.value().node())) {
                return node + " is now assigned";
            }
            proveUnchanged(lease, a);
            return null;
        } catch (Exception e) {
            return "cannot prove leadership: " + e.getMessage();
        }
    }

    private Znode<Assignment> freshAssignment() {
        ZkException.call(paths.scheduler(), () -> client.sync().forPath(paths.scheduler()));
        return Znode.read(client, paths.scheduler(), Assignment.class);
    }

    /**
     * A fenced transaction that writes nothing: it commits only while this leadership holds and the
     * assignment is as read (still absent, or still at the same version).
     */
    private void proveUnchanged(Lease lease, Znode<Assignment> a) {
        ZkException.call(paths.scheduler(), () -> {
            CuratorOp check = a.absent()
                    ? writer.ops().check().forPath(paths.epoch())
                    : writer.ops().check().withVersion(a.stat().getVersion()).forPath(paths.scheduler());
            return writer.commit(lease, List.of(check));
        });
    }
}
