package io.asfc.agent.controller;

import io.asfc.agent.controller.Action.Answer;
import io.asfc.agent.controller.Action.BeginMove;
import io.asfc.agent.metrics.Metrics.FailoverReason;
import io.asfc.common.zk.ControlRecord;
import java.util.Optional;

/**
 * An operator's pending {@code failover} request, decided apart from every effect: the answer
 * (expired, refused and why) or the move's first phase. Part of {@link Placement#decide}.
 */
final class FailoverRequest {
    private FailoverRequest() {}

    /** Empty when no failover request is pending. */
    static Optional<Action> decide(ClusterView view, Policy policy, long nowMillis) {
        if (!view.control().present()) {
            return Optional.empty();
        }
        ControlRecord c = view.control().value();
        if (c.failoverTo() == null || c.requestId() == null) {
            return Optional.empty();
        }
        if (expired(c, nowMillis)) {
            return Optional.of(new Answer(expiredText(c)));
        }
        String current = view.assignment().value().node();
        String target = c.failoverTo().isEmpty()
                ? (current == null ? policy.firstEligible(view) : policy.nextEligible(view, current)).orElse(null)
                : c.failoverTo();
        if (target == null) {
            return Optional.of(new Answer("refused: no other node is eligible"));
        } else if (target.equals(current)) {
            // The command line refuses this up front; here the scheduler got there after the request was
            // filed (a takeover moved it meanwhile): what the operator asked for holds.
            return Optional.of(new Answer("done: the scheduler is already assigned to " + target));
        } else if (!policy.eligible(view, target)) {
            return Optional.of(
                    new Answer("refused: " + target + " is not eligible (" + policy.whyNot(view, target) + ")"));
        }
        return Optional.of(new BeginMove(current, target, "operator request", c.requestId(), FailoverReason.OPERATOR));
    }

    /**
     * Whether a request was filed longer than its time to live ago, by the filer's clock (hosts keep
     * NTP time; the command line withdraws it by its own monotonic clock as well).
     */
    static boolean expired(ControlRecord c, long nowMillis) {
        return c.expiredAt(nowMillis);
    }

    static String expiredText(ControlRecord c) {
        return "expired: no controller took it within " + c.ttlMillis() + "ms; not acted on";
    }
}
