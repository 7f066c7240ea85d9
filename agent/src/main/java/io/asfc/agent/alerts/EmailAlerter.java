package io.asfc.agent.alerts;

import io.asfc.agent.alerts.AlertMail.Mail;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.mail.MailNotSentException;
import io.asfc.common.mail.MailSender;
import io.asfc.common.mail.SmtpSender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mails alerts from one daemon thread, so that a slow or dead SMTP server never delays the caller.
 *
 * <ul>
 *   <li>A condition is mailed once while it is outstanding; {@link #recovered} mails RECOVERED for
 *       a condition that was mailed, and clears it. A one-off event ({@link AlertKind#oneOff()}) is
 *       mailed every time.
 *   <li>At most {@code alerts.email.max-per-hour} mails go out in any rolling hour. An alert over the
 *       limit stays outstanding but is not mailed; the next mail that goes out says how many were left
 *       out, and no RECOVERED mail follows for it.
 *   <li>A mail the server does not accept is tried once more; if that fails too the alert is
 *       forgotten, so that a repeat is tried again.
 *   <li>Every alert is logged at WARN with its subject, mailed or not. The SMTP password never is.
 * </ul>
 */
public final class EmailAlerter implements Alerter {
    private static final Logger LOG = LoggerFactory.getLogger(EmailAlerter.class);
    private static final int QUEUE_CAPACITY = 100;
    private static final int ATTEMPTS = 2;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final AlertMail mails;
    private final boolean onLeadershipChange;
    private final List<String> to;
    private final MailSender sender;
    private final Clock clock;
    private final Outstanding outstanding = new Outstanding();
    private final ThreadPoolExecutor executor;
    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.STARTED);

    // Used by the sending thread only.
    private final RateLimit rateLimit;
    private final Set<String> mailed = new HashSet<>();
    private int suppressed;

    /** The alerter for these settings: {@link Alerter#disabled()} when e-mail is off. */
    public static Alerter create(String cluster, String nodeId, AlertSettings settings) {
        if (!settings.email().enabled()) {
            return Alerter.disabled();
        }
        return new EmailAlerter(cluster, nodeId, settings, SmtpSender.create(settings.email()), Clock.systemUTC());
    }

    /**
     * Sends one test mail now, on the calling thread, and returns once the server accepted it; each
     * SMTP step is bounded by {@code alerts.email.timeout}. For {@code asfc-agent send-test-email}.
     *
     * @throws MailNotSentException with the reason when it was not accepted
     */
    public static void sendTest(String cluster, String nodeId, AlertSettings settings) {
        Mail mail = new AlertMail(settings.email().subjectPrefix(), cluster, nodeId)
                .test(settings.email().to(), Clock.systemUTC().instant());
        SmtpSender sender;
        try {
            sender = SmtpSender.create(settings.email());
        } catch (RuntimeException e) {
            throw new MailNotSentException(e); // settings simplejavamail refuses, e.g. a bad host name
        }
        sender.send(mail.subject(), mail.body());
    }

    EmailAlerter(String cluster, String nodeId, AlertSettings settings, MailSender sender, Clock clock) {
        this.mails = new AlertMail(settings.email().subjectPrefix(), cluster, nodeId);
        this.onLeadershipChange = settings.onLeadershipChange();
        this.to = List.copyOf(settings.email().to());
        this.sender = sender;
        this.clock = clock;
        this.rateLimit = new RateLimit(settings.email().maxPerHour(), clock);
        this.executor = new ThreadPoolExecutor(
                1,
                1,
                0,
                TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(QUEUE_CAPACITY),
                Threads.factory("asfc-alerts-%d", nodeId));
    }

    @Override
    public void raise(Alert alert) {
        if (alert == null) {
            LOG.warn("ignored a null alert");
            return;
        }
        try {
            if (alert.kind() == AlertKind.LEADERSHIP_CHANGE && !onLeadershipChange) {
                LOG.debug("not mailed (alerts.on-leadership-change = false): {}", alert);
                return;
            }
            if (!outstanding.raise(alert)) {
                LOG.debug("already outstanding, not mailed again: {}", alert);
                return;
            }
            Instant at = clock.instant();
            if (!submit(() -> mailAlert(alert, at), mails.alert(alert, at))) {
                outstanding.forget(alert);
            }
        } catch (RuntimeException e) {
            LOG.warn("could not queue alert {}", alert, e);
        }
    }

    @Override
    public void recovered(AlertKind kind, String node, String what) {
        if (kind == null) {
            LOG.warn("ignored a recovery without a kind (node {})", node);
            return;
        }
        try {
            outstanding.recover(kind, node).ifPresent(alert -> {
                Instant at = clock.instant();
                submit(() -> mailRecovery(alert, what, at), mails.recovered(alert, what, at));
            });
        } catch (RuntimeException e) {
            LOG.warn("could not queue the recovery of {} on {}", kind, node, e);
        }
    }

    @Override
    public void close() {
        if (!state.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED)) {
            return;
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                int dropped = executor.shutdownNow().size();
                LOG.warn(
                        "gave up on the SMTP server after {}s; {} queued alert mails not sent",
                        CLOSE_WAIT.toSeconds(),
                        dropped);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }

    /** Queues a mail; false (and logged) when the queue is full or the alerter is closed. */
    private boolean submit(Runnable task, Mail mail) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            // the reason is known; a stack trace would add nothing
            LOG.warn(
                    "alert not mailed ({}): {}",
                    executor.isShutdown() ? "shutting down" : QUEUE_CAPACITY + " mails already queued",
                    mail.subject());
            return false;
        }
    }

    private void mailAlert(Alert alert, Instant at) {
        switch (deliver(mails.alert(alert, at))) {
            case MAILED -> {
                if (!alert.kind().oneOff()) {
                    mailed.add(alert.key());
                }
            }
            case FAILED -> outstanding.forget(alert);
            case SUPPRESSED -> {
                // stays outstanding, so that repeats are neither mailed nor counted again
            }
        }
    }

    private void mailRecovery(Alert alert, String what, Instant at) {
        Mail mail = mails.recovered(alert, what, at);
        if (mailed.remove(alert.key())) {
            deliver(mail);
        } else {
            LOG.warn("alert not mailed (its alert was not mailed either): {}", mail.subject());
        }
    }

    private Outcome deliver(Mail mail) {
        if (!rateLimit.allows()) {
            suppressed++;
            LOG.warn(
                    "alert not mailed ({} mails in the last hour, alerts.email.max-per-hour): {}",
                    rateLimit.max(),
                    mail.subject());
            return Outcome.SUPPRESSED;
        }
        Mail sent = suppressed == 0 ? mail : mail.withNote(mails.suppressedNote(suppressed, rateLimit.max()));
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                sender.send(sent.subject(), sent.body());
                rateLimit.record();
                suppressed = 0;
                LOG.warn("alert mailed to {}: {}", to, sent.subject());
                return Outcome.MAILED;
            } catch (MailNotSentException e) {
                // The reason says what went wrong (e.g. connection refused); the stack trace is for DEBUG.
                LOG.warn(
                        "alert mail not accepted{}: {}: {}",
                        attempt < ATTEMPTS ? ", trying once more" : ", giving up",
                        sent.subject(),
                        e.getMessage());
                LOG.debug("alert mail not accepted", e);
            }
        }
        return Outcome.FAILED;
    }

    private enum Outcome {
        MAILED,
        SUPPRESSED,
        FAILED
    }
}
