package io.asfc.agent.alerts;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.mail.MailSender;
import io.asfc.common.mail.SmtpSender;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EmailAlerterSmtpDownTest {
    private static final Alert ALERT =
            new Alert(AlertKind.START_FAILURES, "b", "the scheduler failed to start 5 times on b", "moved it to c");

    @Test
    void raiseReturnsBeforeTheSendAttemptCompletesAndTheRefusalIsLoggedAfterOneRetry() throws Exception {
        AlertSettings settings = Mails.settings(Mails.closedPort(), 20);
        SmtpSender smtp = SmtpSender.create(settings.email());
        CountDownLatch attemptStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger attemptsDone = new AtomicInteger();
        AtomicReference<String> sendingThread = new AtomicReference<>();
        MailSender gated = (subject, body) -> {
            sendingThread.set(Thread.currentThread().getName());
            attemptStarted.countDown();
            awaitQuietly(release);
            try {
                smtp.send(subject, body);
            } finally {
                attemptsDone.incrementAndGet();
            }
        };

        try (LogCapture logs = LogCapture.of(EmailAlerter.class);
                EmailAlerter alerter =
                        new EmailAlerter("prod", "a", settings, gated, new MutableClock(Instant.EPOCH))) {
            alerter.raise(ALERT);
            int attemptsDoneWhenRaiseReturned = attemptsDone.get();
            boolean started = attemptStarted.await(10, TimeUnit.SECONDS);
            release.countDown();

            assertEquals(0, attemptsDoneWhenRaiseReturned, "raise() must not wait for the send attempt");
            assertTrue(started, "the alert thread never tried to send");
            assertTrue(sendingThread.get().startsWith("asfc-alerts-"), sendingThread.get());
            await().atMost(Duration.ofSeconds(30)).until(() -> logs.count(Level.WARN, "giving up") == 1);
            List<String> warnings = logs.messages(Level.WARN);
            assertEquals(2, warnings.size(), warnings::toString);
            assertTrue(
                    warnings.get(0)
                            .startsWith("alert mail not accepted, trying once more: "
                                    + "[asfc] prod: scheduler keeps failing to start on b: "),
                    warnings::toString);
            assertTrue(warnings.get(1).contains("Connection refused"), warnings::toString);
            assertEquals(2, attemptsDone.get(), "one retry, no more");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
