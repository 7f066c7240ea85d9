package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.ssh.SshException;
import io.asfc.common.zk.ZkPaths;
import java.util.List;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic sweep for stray schedulers: every {@code poll-interval} it looks at every node but
 * the assigned one (and but the node a move is taking it from, which the leave-rule stops), and
 * stops the schedulers it finds there over SSH ({@link SshOps#sweep}). A node with a live
 * agent is trusted, and checked over SSH only every {@code verify-agents-every} sweeps. With
 * {@code nodes = []} every live agent's host is swept.
 *
 * <p>It also keeps which hosts cannot be reached over SSH, in the term's {@link
 * ControllerMemory#unreachable()}: one event and one alert per outage, whoever saw it (this sweep or
 * the {@link AgentlessSupervisor}'s look).
 *
 * <p>Runs on the controller's single executor thread: {@link #sweep} is called there, and every SSH
 * result comes back there through {@link NodeOps}.
 */
final class StraySweeper {
    private static final Logger LOG = LoggerFactory.getLogger(StraySweeper.class);

    private final CuratorFramework client;
    private final ZkPaths paths;
    private final Policy policy;
    private final Tuning tuning;
    /** Null when {@code ssh.enabled = false}: then nothing is swept. */
    private final SshOps sshOps;

    private final NodeOps nodeOps;
    private final EventLog events;
    private final Alerter alerter;
    private final Metrics metrics;
    /** The controller's lease now (null while STANDBY), to tell a result of this term from a stale one. */
    private final Supplier<Lease> currentLease;
    /** Asks the controller for a step. */
    private final Runnable wake;

    // Only touched on the controller thread.
    private ControllerMemory memory;
    private long sweeps;

    StraySweeper(
            CuratorFramework client,
            ZkPaths paths,
            Policy policy,
            Tuning tuning,
            SshOps sshOps,
            NodeOps nodeOps,
            EventLog events,
            Alerter alerter,
            Metrics metrics,
            Supplier<Lease> currentLease,
            Runnable wake,
            ControllerMemory memory) {
        this.client = client;
        this.paths = paths;
        this.policy = policy;
        this.tuning = tuning;
        this.sshOps = sshOps;
        this.nodeOps = nodeOps;
        this.events = events;
        this.alerter = alerter;
        this.metrics = metrics;
        this.currentLease = currentLease;
        this.wake = wake;
        this.memory = memory;
    }

    /** A new term of leadership: what it learns of unreachable hosts goes into its own memory. */
    void newTerm(ControllerMemory termMemory) {
        this.memory = termMemory;
    }

    /**
     * Every {@code poll-interval}, while this leader holds {@code l}: look for schedulers on every
     * listed node but the assigned one (and but the node a move is taking it from, whose agent is
     * stopping it).
     */
    void sweep(Lease l) {
        try {
            ClusterZnodes znodes = ClusterReader.znodes(client, paths);
            if (znodes.anyNewer()) {
                return; // a newer major's records: this agent leaves the election (docs/UPGRADE.md)
            }
            ClusterView view = ClusterView.of(znodes);
            String assigned =
                    view.assignment().present() ? view.assignment().value().node() : null;
            String leaving =
                    view.assignment().present() ? view.assignment().value().movingFrom() : null;
            boolean verify = tuning.verifyAgentsEvery() > 0 && ++sweeps % tuning.verifyAgentsEvery() == 0;
            // With nodes = [], every live agent's host is swept.
            for (String node :
                    policy.nodes().isEmpty() ? List.copyOf(view.agents().keySet()) : policy.nodes()) {
                boolean agentTrusted =
                        !policy.isAgentless(node) && view.agents().containsKey(node) && !verify;
                if (node.equals(assigned)
                        || node.equals(leaving) // the leave-rule stops it
                        || nodeOps.busy(node)
                        || agentTrusted) {
                    continue;
                }
                nodeOps.submit(
                        node,
                        "sweep",
                        () -> sshOps.sweep(l, node),
                        e -> new SshOps.Skipped(node, "the sweep failed: " + e),
                        result -> swept(l, result));
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("sweep failed; retrying at the next poll-interval", e);
        }
    }

    private void swept(Lease l, SshOps.Swept result) {
        String node = result.node();
        if (result instanceof SshOps.Unreachable u) {
            unreachable(node, u.error());
        } else if (result instanceof SshOps.Skipped s) {
            reachable(node);
            LOG.info("left {} alone: {}", node, s.why());
        } else if (result instanceof SshOps.StrayStopped s) {
            reachable(node);
            String text = "stray scheduler on " + node + " (" + s.seen() + "): "
                    + s.stop().describe();
            LOG.warn(text);
            metrics.strayStopped();
            events.record("stray-stopped", text);
            alerter.raise(new Alert(
                    AlertKind.STRAY_STOPPED,
                    node,
                    "a scheduler was running on " + node + ", which is not assigned: " + s.seen(),
                    "stopped it over SSH (" + s.stop().describe() + ")"));
        } else {
            reachable(node);
        }
        if (currentLease.get() == l) {
            wake.run();
        }
    }

    /** {@code node} could not be reached over SSH: one event and one alert per outage. */
    void unreachable(String node, SshException error) {
        if (memory.unreachable().putIfAbsent(node, error.getMessage()) == null) {
            LOG.warn("{} is unreachable over SSH: {}", node, error.getMessage());
            events.record("host-unreachable", node + ": " + error.getMessage());
            alerter.raise(new Alert(
                    AlertKind.HOST_UNREACHABLE,
                    node,
                    node + " cannot be checked over SSH: " + error.getMessage(),
                    "it cannot be checked for a stray scheduler" + (policy.isAgentless(node) ? " nor run one" : "")
                            + " until it is reachable again; one alert per outage"));
        }
    }

    /** {@code node} answered over SSH: ends its outage, if it had one. */
    void reachable(String node) {
        if (memory.unreachable().remove(node) != null) {
            LOG.info("{} is reachable over SSH again", node);
            events.record("host-reachable", node + " answers over SSH again");
            alerter.recovered(AlertKind.HOST_UNREACHABLE, node, node + " answers over SSH again");
        }
    }
}
