package io.asfc.agent.controller;

import io.asfc.agent.election.Lease;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured fencing methods ({@code controller.fencing}), tried in order until one confirms the
 * node's scheduler stopped. Its outcome is what {@link HostStopper} records for {@link LeaveRule}'s
 * (b); there is no other way to it. A method that throws confirms nothing.
 */
final class Fencing {
    private static final Logger LOG = LoggerFactory.getLogger(Fencing.class);

    private final List<FencingMethod> methods;

    /** @param methods in the order of {@code controller.fencing}, less {@code ssh} while SSH is off */
    Fencing(List<FencingMethod> methods) {
        this.methods = List.copyOf(methods);
    }

    /** Whether any method can run: else the leave-rule never asks for a host stop. */
    boolean available() {
        return !methods.isEmpty();
    }

    /** Blocks; on the node's serial queue. Confirmed by the first method that confirms, with its name. */
    FencingMethod.Outcome fence(Lease lease, String node, long generation) {
        List<String> failed = new ArrayList<>();
        for (FencingMethod m : methods) {
            FencingMethod.Outcome outcome;
            try {
                outcome = m.fence(lease, node, generation);
            } catch (RuntimeException e) {
                LOG.warn("fencing method {} on {} failed", m.name(), node, e);
                outcome = new FencingMethod.Outcome(false, "failed: " + e.getMessage());
            }
            if (outcome.confirmed()) {
                return new FencingMethod.Outcome(true, m.name() + ": " + outcome.detail());
            }
            LOG.warn("fencing method {} did not confirm {}'s scheduler stopped: {}", m.name(), node, outcome.detail());
            failed.add(m.name() + ": " + outcome.detail());
            if (Thread.currentThread().isInterrupted()) {
                break; // closing: the rest would be cut short as well
            }
        }
        return new FencingMethod.Outcome(
                false, failed.isEmpty() ? "no fencing method is configured" : String.join("; ", failed));
    }
}
