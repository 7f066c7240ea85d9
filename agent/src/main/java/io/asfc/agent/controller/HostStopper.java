package io.asfc.agent.controller;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.election.Lease;
import io.asfc.agent.events.EventLog;
import io.asfc.common.config.Modes.OnUnfenceable;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host stops, clause (b) of the leave-rule: stops a node's scheduler over SSH ({@link
 * SshOps#hostStop}) under this leader's lease, on the node's serial queue, and records the
 * result in the term's {@link ControllerMemory}, where {@link LeaveRule} reads it. It also reports,
 * once per episode, a node that cannot be stopped (alert {@code unfenceable}) and a node the
 * scheduler cannot leave (event {@code move-blocked}). The {@link Controller} decides when to stop
 * a host; this class does it.
 *
 * <p>What it knows belongs to one term of leadership ({@link #newTerm}). Runs on the controller's
 * single executor thread: its methods are called there, and every SSH result comes back there
 * through {@link NodeOps}.
 */
final class HostStopper {
    private static final Logger LOG = LoggerFactory.getLogger(HostStopper.class);

    private final Policy policy;
    private final Tuning tuning;
    /** Null when {@code ssh.enabled = false}: then no host is stopped, and the leave-rule never asks. */
    private final SshOps sshOps;

    private final NodeOps nodeOps;
    private final EventLog events;
    private final Alerter alerter;
    private final LongSupplier nanoTime;
    /** The controller's lease now (null while STANDBY), to tell a result of this term from a stale one. */
    private final Supplier<Lease> currentLease;
    /** Asks the controller for a step. */
    private final Runnable wake;

    // Only touched on the controller thread; all of it belongs to one term of leadership.
    private ControllerMemory memory;
    /** Nodes the scheduler cannot leave, alerted once per episode; and nodes whose host stop failed. */
    private final Set<String> blockedReported = new HashSet<>();

    private final Set<String> unfenceableLogged = new HashSet<>();

    HostStopper(
            Policy policy,
            Tuning tuning,
            SshOps sshOps,
            NodeOps nodeOps,
            EventLog events,
            Alerter alerter,
            LongSupplier nanoTime,
            Supplier<Lease> currentLease,
            Runnable wake,
            ControllerMemory memory) {
        this.policy = policy;
        this.tuning = tuning;
        this.sshOps = sshOps;
        this.nodeOps = nodeOps;
        this.events = events;
        this.alerter = alerter;
        this.nanoTime = nanoTime;
        this.currentLease = currentLease;
        this.wake = wake;
        this.memory = memory;
    }

    /** A new term of leadership: its host stops go into its own memory, and every episode is new. */
    void newTerm(ControllerMemory termMemory) {
        this.memory = termMemory;
        blockedReported.clear();
        unfenceableLogged.clear();
    }

    /**
     * HostStop: stops the node's scheduler over SSH, under this lease, on the node's serial queue,
     * for the unassignment of {@code generation}.
     */
    void stop(Lease l, String node, long generation) {
        memory.hostStopQueued(node, generation, nanoTime.getAsLong());
        LOG.info("stopping the scheduler on {} over SSH (host stop)", node);
        nodeOps.submit(
                node,
                "host stop",
                () -> sshOps.hostStop(l, node),
                e -> new SshOps.HostStopped(node, null, e),
                result -> hostStopped(l, result));
    }

    /** The scheduler cannot leave {@code node}, for {@code why}: logged and recorded once per episode. */
    void blocked(String node, String why) {
        if (blockedReported.add(node)) { // the failed host stop raised the alert
            LOG.error("the scheduler cannot leave {}: {}", node, why);
            events.record("move-blocked", why);
        }
    }

    private void hostStopped(Lease l, SshOps.HostStopped result) {
        String node = result.node();
        if (currentLease.get() != l) {
            return; // a deposed leader's stop proves nothing to its successor
        }
        memory.hostStopDone(node, result.ok(), result.describe(), nanoTime.getAsLong());
        if (result.ok()) {
            events.record("host-stopped", node + ": " + result.describe());
            if (unfenceableLogged.remove(node)) {
                alerter.recovered(AlertKind.UNFENCEABLE, node, node + " could be stopped over SSH again");
            }
            blockedReported.remove(node);
        } else if (unfenceableLogged.add(node)) { // once per episode
            LOG.error("cannot stop the scheduler on {} over SSH: {}", node, result.describe());
            events.record("unfenceable", node + ": " + result.describe());
            alerter.raise(new Alert(
                    AlertKind.UNFENCEABLE,
                    node,
                    "cannot stop the scheduler on " + node + " over SSH: " + result.describe(),
                    policy.isAgentless(node)
                            ? node + " is agentless: it keeps the assignment until it can be stopped"
                            : tuning.onUnfenceable() == OnUnfenceable.WAIT
                                    ? "on-unfenceable = wait: no other node is assigned until " + node + " is stopped"
                                    : "on-unfenceable = proceed: another node is assigned after takeover-grace "
                                            + tuning.takeoverGrace().toMillis() + "ms, relying on " + node
                                            + "'s self-fencing"));
        }
        wake.run();
    }
}
