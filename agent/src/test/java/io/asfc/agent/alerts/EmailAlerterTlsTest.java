package io.asfc.agent.alerts;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.Modes.SmtpTransport;
import io.asfc.common.mail.SmtpSender;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SMTPS and SMTP authentication through the alerter; the password must never reach a log. The
 * transport alone (STARTTLS refused) is tested in {@code io.asfc.common.mail.SmtpSenderTest}.
 */
class EmailAlerterTlsTest {
    private static final String PASSWORD = "Pa55-never-logged";
    private static final String WRONG_PASSWORD = "Wr0ng-never-logged";
    private static final Alert ALERT =
            new Alert(AlertKind.UNFENCEABLE, "b", "ssh to b: connection timed out", "waiting");

    @RegisterExtension
    static final GreenMailExtension greenMail = new GreenMailExtension(new ServerSetup[] {
                ServerSetupTest.SMTPS.createCopy("127.0.0.1").dynamicPort()
            })
            .withConfiguration(GreenMailConfiguration.aConfig().withUser(Mails.FROM, "mailer", PASSWORD));

    @Test
    void smtpsWithAuthenticationDeliversAndNeverLogsThePassword() {
        try (LogCapture logs = LogCapture.of(Level.TRACE, "io.asfc", "org.simplejavamail", "jakarta.mail");
                EmailAlerter alerter = alerter(PASSWORD)) {
            alerter.raise(ALERT);

            await().atMost(Duration.ofSeconds(20)).until(() -> greenMail.getReceivedMessages().length == 1);
            assertEquals("[asfc] prod: cannot fence b", Mails.subject(greenMail.getReceivedMessages()[0]));
            await().until(() -> logs.count(Level.WARN, "alert mailed") == 1);
            assertFalse(logs.everything().contains(PASSWORD), logs.everything());
        }
    }

    @Test
    void refusedLoginIsLoggedWithoutThePassword() {
        try (LogCapture logs = LogCapture.of(Level.TRACE, "io.asfc", "org.simplejavamail", "jakarta.mail");
                EmailAlerter alerter = alerter(WRONG_PASSWORD)) {
            alerter.raise(ALERT);

            await().atMost(Duration.ofSeconds(20)).until(() -> logs.count(Level.WARN, "giving up") == 1);
            String logged = logs.everything();
            assertTrue(logged.contains("alert mail not accepted, giving up: [asfc] prod: cannot fence b: "), logged);
            assertFalse(logged.contains(WRONG_PASSWORD) || logged.contains(PASSWORD), logged);
            assertEquals(0, greenMail.getReceivedMessages().length);
        }
    }

    private static EmailAlerter alerter(String password) {
        AlertSettings settings =
                Mails.settings(greenMail.getSmtps().getPort(), SmtpTransport.SMTPS, 20, "mailer", password);
        // GreenMail's certificate is self-signed and names no host
        SmtpSender smtps =
                new SmtpSender(settings.email(), b -> b.trustingAllHosts(true).verifyingServerIdentity(false));
        return new EmailAlerter("prod", "a", settings, smtps, new MutableClock(Instant.EPOCH));
    }
}
