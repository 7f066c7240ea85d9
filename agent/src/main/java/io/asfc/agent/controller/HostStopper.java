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
 * Host stops, clause (b) of the leave-rule: confirms a node's scheduler stopped with the configured
 * fencing methods ({@link Fencing}: {@code ssh}, {@code shell:<command>}, in order until one
 * confirms) under this leader's lease, on the node's serial queue, and records the result in the
 * term's {@link ControllerMemory}, where {@link LeaveRule} reads it. It also reports,
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
    /** With no method available (only {@code ssh}, and SSH off) the leave-rule never asks for a stop. */
    private final Fencing fencing;

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
            Fencing fencing,
            NodeOps nodeOps,
            EventLog events,
            Alerter alerter,
            LongSupplier nanoTime,
            Supplier<Lease> currentLease,
            Runnable wake,
            ControllerMemory memory) {
        this.policy = policy;
        this.tuning = tuning;
        this.fencing = fencing;
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
     * HostStop: confirms the node's scheduler stopped with the fencing methods, under this lease, on
     * the node's serial queue, for the unassignment of {@code generation}.
     */
    void stop(Lease l, String node, long generation) {
        memory.hostStopQueued(node, generation, nanoTime.getAsLong());
        LOG.info("fencing {}: stopping its scheduler (host stop)", node);
        nodeOps.submit(
                node,
                "host stop",
                () -> fencing.fence(l, node, generation),
                e -> new FencingMethod.Outcome(false, "failed: " + e.getMessage()),
                result -> hostStopped(l, node, result));
    }

    /** The scheduler cannot leave {@code node}, for {@code why}: logged and recorded once per episode. */
    void blocked(String node, String why) {
        if (blockedReported.add(node)) { // the failed host stop raised the alert
            LOG.error("the scheduler cannot leave {}: {}", node, why);
            events.record("move-blocked", why);
        }
    }

    private void hostStopped(Lease l, String node, FencingMethod.Outcome result) {
        if (currentLease.get() != l) {
            return; // a deposed leader's stop proves nothing to its successor
        }
        memory.hostStopDone(node, result.confirmed(), result.detail(), nanoTime.getAsLong());
        if (result.confirmed()) {
            events.record("host-stopped", node + ": " + result.detail());
            if (unfenceableLogged.remove(node)) {
                alerter.recovered(AlertKind.UNFENCEABLE, node, node + " could be fenced again");
            }
            blockedReported.remove(node);
        } else if (unfenceableLogged.add(node)) { // once per episode
            LOG.error("no fencing method confirmed the scheduler on {} stopped: {}", node, result.detail());
            events.record("unfenceable", node + ": " + result.detail());
            alerter.raise(new Alert(
                    AlertKind.UNFENCEABLE,
                    node,
                    "no fencing method confirmed the scheduler on " + node + " stopped: " + result.detail(),
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
