package io.asfc.agent.alerts;

import static io.asfc.agent.alerts.Mails.body;
import static io.asfc.agent.alerts.Mails.settings;
import static io.asfc.agent.alerts.Mails.subject;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.mail.SmtpSender;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EmailAlerterTest {
    private static final Instant T0 = Instant.parse("2026-03-01T12:00:00.250Z");
    private static final Alert STRAY = new Alert(
            AlertKind.STRAY_STOPPED,
            "c",
            "a scheduler (pid 4242) ran on c without an assignment",
            "stopped it over SSH; b keeps running the scheduler");
    private static final Alert UNFENCED = new Alert(
            AlertKind.UNFENCEABLE,
            "c",
            "c could not be fenced: connection refused",
            "assigned the scheduler to b after takeover-grace");

    @RegisterExtension
    static final GreenMailExtension greenMail =
            new GreenMailExtension(ServerSetupTest.SMTP.createCopy("127.0.0.1").dynamicPort());

    private final MutableClock clock = new MutableClock(T0);
    private EmailAlerter alerter;

    @AfterEach
    void closeAlerter() {
        if (alerter != null) {
            alerter.close();
        }
    }

    @Test
    void alertMailSaysWhatWhereWhatWasDoneWhoAndWhen() {
        alerter = alerter(20);

        alerter.raise(STRAY);

        MimeMessage mail = awaitMails(1).get(0);
        assertEquals("[asfc] prod: stray scheduler stopped on c", subject(mail));
        String body = body(mail);
        assertTrue(body.contains("What happened: a scheduler (pid 4242) ran on c without an assignment\n"), body);
        assertTrue(body.contains("Where: node c\n"), body);
        assertTrue(
                body.contains("What the controller did: stopped it over SSH; b keeps running the scheduler\n"), body);
        assertTrue(body.contains("Sent by: agent a of cluster prod\n"), body);
        assertTrue(body.strip().endsWith("Time: 2026-03-01T12:00:00Z"), body);
    }

    @Test
    void recoveredMailSaysWhatEnded() {
        alerter = alerter(20);

        alerter.raise(UNFENCED);
        clock.advance(Duration.ofMinutes(3));
        alerter.recovered(AlertKind.UNFENCEABLE, "c", "c could be fenced again");

        MimeMessage mail = awaitMails(2).get(1);
        assertEquals("[asfc] prod: RECOVERED: cannot fence c", subject(mail));
        String body = body(mail);
        assertTrue(body.contains("What ended: c could be fenced again\n"), body);
        assertTrue(body.contains("Where: node c\n"), body);
        assertTrue(body.contains("Sent by: agent a of cluster prod\n"), body);
        assertTrue(body.strip().endsWith("Time: 2026-03-01T12:03:00Z"), body);
    }

    @Test
    void oneOffEventsAreMailedEveryTimeAndNeverRecovered() {
        alerter = alerter(20);

        alerter.raise(STRAY);
        alerter.raise(new Alert(AlertKind.STRAY_STOPPED, "c", "another one", "stopped it too"));
        alerter.recovered(AlertKind.STRAY_STOPPED, "c", "one-off events have nothing to recover");
        alerter.raise(UNFENCED); // a marker: one thread sends in order

        assertEquals(
                List.of(
                        "[asfc] prod: stray scheduler stopped on c",
                        "[asfc] prod: stray scheduler stopped on c",
                        "[asfc] prod: cannot fence c"),
                awaitMails(3).stream().map(Mails::subject).toList());
        assertFalse(
                body(awaitMails(3).get(0)).contains("RECOVERED"),
                body(awaitMails(3).get(0)));
    }

    @Test
    void senderMayCarryADisplayName() throws Exception {
        AlertSettings base = settings(greenMail.getSmtp().getPort(), 20);
        AlertSettings named = new AlertSettings(
                5,
                false,
                new AlertSettings.Email(
                        true,
                        base.email().to(),
                        "Airflow Alerts <" + base.email().from() + ">",
                        "[asfc]",
                        base.email().timeout(),
                        20,
                        base.email().smtp()));
        alerter = new EmailAlerter("prod", "a", named, SmtpSender.create(named.email()), clock);

        alerter.raise(STRAY);

        jakarta.mail.internet.InternetAddress from =
                (jakarta.mail.internet.InternetAddress) awaitMails(1).get(0).getFrom()[0];
        assertEquals("Airflow Alerts", from.getPersonal());
        assertEquals(base.email().from(), from.getAddress());
    }

    @Test
    void clusterWideAlertSaysSo() {
        alerter = alerter(20);

        alerter.raise(new Alert(AlertKind.NO_ELIGIBLE_NODE, null, "every node is quarantined", null));

        MimeMessage mail = awaitMails(1).get(0);
        assertEquals("[asfc] prod: no eligible node for the scheduler", subject(mail));
        assertTrue(body(mail).contains("Where: the whole cluster\n"), body(mail));
        assertTrue(body(mail).contains("What the controller did: nothing\n"), body(mail));
    }

    @Test
    void movedAlertNamesTheNodeTheSchedulerLeft() {
        alerter = alerter(20);

        alerter.raise(
                new Alert(AlertKind.SCHEDULER_MOVED, "b", "the scheduler left b: 3 failures", "assigned it to c"));

        assertEquals("[asfc] prod: scheduler moved off b", subject(awaitMails(1).get(0)));
    }

    @Test
    void repeatIsNotMailedUntilRecovered() {
        alerter = alerter(20);
        Alert marker = new Alert(AlertKind.HOST_UNREACHABLE, "d", "no answer on port 22", "none");

        alerter.raise(UNFENCED);
        alerter.raise(new Alert(AlertKind.UNFENCEABLE, "c", "again", "again"));
        alerter.raise(marker);
        // one thread sends in order: once the marker is in, a repeat would be too
        List<MimeMessage> first = awaitMails(2);
        alerter.recovered(AlertKind.UNFENCEABLE, "c", "c could be fenced again");
        alerter.recovered(AlertKind.UNFENCEABLE, "c", "a second recovery is not mailed");
        alerter.raise(UNFENCED);
        alerter.recovered(AlertKind.START_FAILURES, "c", "never raised, so not mailed");
        alerter.raise(marker);
        alerter.recovered(AlertKind.HOST_UNREACHABLE, "d", "d answers again");
        List<MimeMessage> all = awaitMails(5);

        assertEquals(
                List.of("[asfc] prod: cannot fence c", "[asfc] prod: host d is unreachable"),
                first.stream().map(Mails::subject).toList());
        assertEquals(
                List.of(
                        "[asfc] prod: cannot fence c",
                        "[asfc] prod: host d is unreachable",
                        "[asfc] prod: RECOVERED: cannot fence c",
                        "[asfc] prod: cannot fence c",
                        "[asfc] prod: RECOVERED: host d is unreachable"),
                all.stream().map(Mails::subject).toList());
    }

    @Test
    void overTheHourlyLimitAlertsAreCountedAndTheNextMailSaysHowMany() {
        alerter = alerter(3);

        try (LogCapture logs = LogCapture.of(EmailAlerter.class)) {
            for (int i = 1; i <= 5; i++) {
                alerter.raise(new Alert(AlertKind.HOST_UNREACHABLE, "n" + i, "no answer", "none"));
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> logs.count(Level.WARN, "alert not mailed (3 mails in the last hour") == 2);
            assertEquals(3, greenMail.getReceivedMessages().length);
            assertTrue(logs.messages(Level.WARN)
                    .contains("alert not mailed (3 mails in the last hour, "
                            + "alerts.email.max-per-hour): [asfc] prod: host n5 is unreachable"));

            clock.advance(Duration.ofMinutes(61));
            alerter.raise(new Alert(AlertKind.NO_ELIGIBLE_NODE, null, "every node is quarantined", "none"));

            MimeMessage next = awaitMails(4).get(3);
            assertEquals("[asfc] prod: no eligible node for the scheduler", subject(next));
            assertTrue(body(next).contains("Suppressed: 2 alert mails were not sent before this one"), body(next));
        }
    }

    @Test
    void leadershipChangesAreDroppedUnlessAskedFor() {
        alerter = alerter(20);

        alerter.raise(new Alert(AlertKind.LEADERSHIP_CHANGE, "b", "b became the active controller", "none"));
        alerter.raise(STRAY);

        assertEquals(
                "[asfc] prod: stray scheduler stopped on c",
                subject(awaitMails(1).get(0)));
        assertEquals(1, greenMail.getReceivedMessages().length);
    }

    @Test
    void leadershipChangesAreMailedWhenAskedFor() {
        AlertSettings base = settings(greenMail.getSmtp().getPort(), 20);
        alerter = new EmailAlerter(
                "prod",
                "a",
                new AlertSettings(base.retryCountBeforeAlerting(), true, base.email()),
                SmtpSender.create(base.email()),
                clock);

        alerter.raise(new Alert(AlertKind.LEADERSHIP_CHANGE, "b", "b became the active controller", "none"));

        assertEquals(
                "[asfc] prod: b is now the active controller",
                subject(awaitMails(1).get(0)));
    }

    @Test
    void everyMailedAlertIsLoggedAtWarnWithItsSubject() {
        alerter = alerter(20);

        try (LogCapture logs = LogCapture.of(EmailAlerter.class)) {
            alerter.raise(STRAY);

            await().until(() -> logs.count(Level.WARN, "[asfc] prod: stray scheduler stopped on c") == 1);
            assertEquals(
                    List.of("alert mailed to [ops@example.com]: [asfc] prod: stray scheduler stopped on c"),
                    logs.messages(Level.WARN));
        }
    }

    @Test
    void disabledAlerterLogsAtInfoOncePerAlertAndSendsNothing() {
        AlertSettings base = settings(greenMail.getSmtp().getPort(), 20);
        AlertSettings off = new AlertSettings(
                5,
                false,
                new AlertSettings.Email(
                        false,
                        base.email().to(),
                        base.email().from(),
                        base.email().subjectPrefix(),
                        base.email().timeout(),
                        20,
                        base.email().smtp()));

        try (LogCapture logs = LogCapture.of(Level.DEBUG, LoggingAlerter.class.getName());
                Alerter disabled = EmailAlerter.create("prod", "a", off)) {
            disabled.raise(UNFENCED);
            disabled.raise(UNFENCED);
            disabled.recovered(AlertKind.UNFENCEABLE, "c", "c could be fenced again");

            assertFalse(disabled instanceof EmailAlerter);
            assertEquals(
                    List.of(
                            "alert (e-mail disabled, not sent): cannot fence c: " + UNFENCED.what() + " "
                                    + UNFENCED.action(),
                            "alert recovered (e-mail disabled, not sent): cannot fence c: "
                                    + "c could be fenced again"),
                    logs.messages(Level.INFO));
        }
        assertEquals(0, greenMail.getReceivedMessages().length);
    }

    @Test
    void raiseAndRecoveredNeverThrow() {
        alerter = alerter(20);
        alerter.close();

        alerter.raise(null);
        alerter.raise(STRAY);
        alerter.recovered(null, null, null);
        alerter.recovered(AlertKind.STRAY_STOPPED, "c", "after close");
        alerter.close();
        Alerter.disabled().raise(null);
        Alerter.disabled().recovered(null, null, null);
    }

    private EmailAlerter alerter(int maxPerHour) {
        AlertSettings settings = settings(greenMail.getSmtp().getPort(), maxPerHour);
        return new EmailAlerter("prod", "a", settings, SmtpSender.create(settings.email()), clock);
    }

    private static List<MimeMessage> awaitMails(int count) {
        await().atMost(Duration.ofSeconds(20)).until(() -> greenMail.getReceivedMessages().length >= count);
        return Arrays.asList(greenMail.getReceivedMessages());
    }
}
