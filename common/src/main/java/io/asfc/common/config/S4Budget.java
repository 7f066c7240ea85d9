package io.asfc.common.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The S4 budget: a host cut off from ZooKeeper must have stopped its scheduler before another host
 * may start one. Without a confirmed stop over SSH, another host may start one when the cut-off
 * host's session has expired and {@code takeover-grace} has passed (the leave-rule's clause (c)). Two
 * things on the cut-off host stop its scheduler before then, and each must fit:
 *
 * <ul>
 *   <li>the agent's self-fence: the client notices a silent ensemble only after 2/3 of the session
 *       timeout (then SUSPENDED), self-fences {@code self-fence-after} later, and its scheduler is
 *       gone at most {@code self-fence-stop-timeout} after that (SIGKILL):
 *       <pre>2/3 x session-timeout + self-fence-after + self-fence-stop-timeout &lt; session-timeout + takeover-grace</pre>
 *   <li>the on-host deadman, for an agent that is frozen as well: it stops the scheduler when the
 *       agent has not renewed for {@code deadman-timeout} (renewals stop when the connection does):
 *       <pre>deadman-timeout + self-fence-stop-timeout &lt; session-timeout + takeover-grace</pre>
 * </ul>
 *
 * @param deadman the deadman's timeout, as configured or derived ({@link #deadmanDefault})
 */
public record S4Budget(
        Duration session, Duration selfFenceAfter, Duration selfFenceStop, Duration takeoverGrace, Duration deadman) {

    public static S4Budget of(AsfcSettings s) {
        return of(s, s.zookeeper().sessionTimeout());
    }

    /** The budget with the session timeout the server granted, which may differ from the configured one. */
    public static S4Budget of(AsfcSettings s, Duration session) {
        Duration selfFenceAfter = s.zookeeper().selfFenceAfter();
        return new S4Budget(
                session,
                selfFenceAfter,
                s.scheduler().selfFenceStopTimeout(),
                s.controller().takeoverGrace(),
                s.scheduler()
                        .deadmanTimeout()
                        .orElseGet(() -> deadmanDefault(s.zookeeper().sessionTimeout(), selfFenceAfter)));
    }

    /**
     * The deadman's timeout when none is set: when the self-fence would act, 2/3 x session-timeout +
     * self-fence-after. Every config whose self-fence budget holds then holds the deadman's too.
     */
    public static Duration deadmanDefault(Duration session, Duration selfFenceAfter) {
        return session.multipliedBy(2).dividedBy(3).plus(selfFenceAfter);
    }

    /** When, after its last contact, a cut-off host's scheduler is surely gone by its self-fence. */
    public Duration stoppedBy() {
        return session.multipliedBy(2).dividedBy(3).plus(selfFenceAfter).plus(selfFenceStop);
    }

    /** When, after its last renewal, a frozen agent's scheduler is surely gone by the deadman. */
    public Duration deadmanStoppedBy() {
        return deadman.plus(selfFenceStop);
    }

    /** When, after the cut-off host's last contact, another host may start a scheduler. */
    public Duration takeoverAfter() {
        return session.plus(takeoverGrace);
    }

    /** Why the budget does not hold, naming each term; empty when it holds. */
    public Optional<String> problem() {
        List<String> problems = new ArrayList<>();
        if (stoppedBy().compareTo(takeoverAfter()) >= 0) {
            problems.add("the S4 budget does not hold: a host cut off from ZooKeeper may still run its scheduler "
                    + ms(stoppedBy()) + " after its last contact (2/3 x zookeeper.session-timeout "
                    + ms(session.multipliedBy(2).dividedBy(3))
                    + " + zookeeper.self-fence-after " + ms(selfFenceAfter)
                    + " + scheduler.self-fence-stop-timeout " + ms(selfFenceStop)
                    + "), but another host may start one after "
                    + ms(takeoverAfter()) + " (zookeeper.session-timeout " + ms(session)
                    + " + controller.takeover-grace " + ms(takeoverGrace)
                    + "); shorten self-fence-after or self-fence-stop-timeout, or lengthen"
                    + " takeover-grace or session-timeout");
        }
        if (deadmanStoppedBy().compareTo(takeoverAfter()) >= 0) {
            problems.add("the S4 budget does not hold for the deadman: a host whose agent froze may still run its"
                    + " scheduler " + ms(deadmanStoppedBy()) + " after the agent's last renewal"
                    + " (scheduler.deadman-timeout " + ms(deadman) + " + scheduler.self-fence-stop-timeout "
                    + ms(selfFenceStop) + "), but another host may start one after " + ms(takeoverAfter())
                    + " (zookeeper.session-timeout " + ms(session) + " + controller.takeover-grace "
                    + ms(takeoverGrace) + "); shorten deadman-timeout (or leave it unset) or"
                    + " self-fence-stop-timeout, or lengthen takeover-grace or session-timeout");
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private static String ms(Duration d) {
        return d.toMillis() + "ms";
    }
}
