package io.asfc.common.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The S4 budget: a host cut off from ZooKeeper must have stopped its scheduler before another host
 * may start one. The client notices a silent ensemble only after 2/3 of the session timeout (then
 * SUSPENDED), self-fences {@code self-fence-after} later, and its scheduler is gone at most
 * {@code self-fence-stop-timeout} after that (SIGKILL). Without a confirmed stop over SSH, another
 * host may start one when the session has expired and {@code takeover-grace} has passed (the
 * leave-rule's clause (c)). So
 *
 * <pre>2/3 x session-timeout + self-fence-after + self-fence-stop-timeout &lt; session-timeout + takeover-grace</pre>
 */
public record S4Budget(Duration session, Duration selfFenceAfter, Duration selfFenceStop, Duration takeoverGrace) {
    public static S4Budget of(AsfcSettings s) {
        return new S4Budget(
                s.zookeeper().sessionTimeout(),
                s.zookeeper().selfFenceAfter(),
                s.scheduler().selfFenceStopTimeout(),
                s.controller().takeoverGrace());
    }

    /** When, after its last contact, a cut-off host's scheduler is surely gone. */
    public Duration stoppedBy() {
        return session.multipliedBy(2).dividedBy(3).plus(selfFenceAfter).plus(selfFenceStop);
    }

    /** When, after the cut-off host's last contact, another host may start a scheduler. */
    public Duration takeoverAfter() {
        return session.plus(takeoverGrace);
    }

    /** Why the budget does not hold, naming each term; empty when it holds. */
    public Optional<String> problem() {
        if (stoppedBy().compareTo(takeoverAfter()) < 0) {
            return Optional.empty();
        }
        return Optional.of("the S4 budget does not hold: a host cut off from ZooKeeper may still run its scheduler "
                + ms(stoppedBy()) + " after its last contact (2/3 x zookeeper.session-timeout "
                + ms(session.multipliedBy(2).dividedBy(3))
                + " + zookeeper.self-fence-after " + ms(selfFenceAfter)
                + " + scheduler.self-fence-stop-timeout " + ms(selfFenceStop)
                + "), but another host may start one after "
                + ms(takeoverAfter()) + " (zookeeper.session-timeout " + ms(session) + " + controller.takeover-grace "
                + ms(takeoverGrace) + "); shorten self-fence-after or self-fence-stop-timeout, or lengthen"
                + " takeover-grace or session-timeout");
    }

    private static String ms(Duration d) {
        return d.toMillis() + "ms";
    }
}
