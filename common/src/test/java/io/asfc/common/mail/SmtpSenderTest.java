package io.asfc.common.mail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.Modes.SmtpTransport;
import io.asfc.common.config.Secret;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The SMTP transport on its own: what reaches the server, and the reason when nothing does. */
class SmtpSenderTest {
    private static final String TO = "ops@example.com";
    private static final String FROM = "asfc@example.com";

    @RegisterExtension
    static final GreenMailExtension greenMail =
            new GreenMailExtension(ServerSetupTest.SMTP.createCopy("127.0.0.1").dynamicPort());

    @Test
    void plainSmtpDeliversTheSubjectAndBodyToEveryRecipient() throws Exception {
        SmtpSender.create(email(greenMail.getSmtp().getPort(), SmtpTransport.SMTP))
                .send("prod: test", "line one\nline two\n");

        MimeMessage[] received = greenMail.getReceivedMessages();
        assertEquals(1, received.length);
        assertEquals("prod: test", received[0].getSubject());
        assertEquals(TO, received[0].getAllRecipients()[0].toString());
        assertEquals(
                "line one\nline two",
                received[0].getContent().toString().replace("\r\n", "\n").strip());
    }

    @Test
    void reasonNamesTheCauseWithoutSimpleJavaMailsWrapper() {
        MailNotSentException e = assertThrows(
                MailNotSentException.class,
                () -> SmtpSender.create(email(closedPort(), SmtpTransport.SMTP)).send("s", "b"));

        assertTrue(e.getMessage().contains("Couldn't connect to host"), e.getMessage());
        assertTrue(e.getMessage().endsWith("Connection refused"), e.getMessage());
        assertFalse(e.getMessage().contains("Third party error"), e.getMessage());
    }

    @Test
    void smtpTlsRefusesAServerWithoutStartTls() {
        // GreenMail offers no STARTTLS; SMTP_TLS must not fall back to plain text
        MailNotSentException e = assertThrows(MailNotSentException.class, () -> SmtpSender.create(
                        email(greenMail.getSmtp().getPort(), SmtpTransport.SMTP_TLS))
                .send("s", "b"));

        assertTrue(e.getMessage().contains("STARTTLS"), e.getMessage());
        assertEquals(0, greenMail.getReceivedMessages().length);
    }

    private static AlertSettings.Email email(int port, SmtpTransport transport) {
        return new AlertSettings.Email(
                true,
                List.of(TO),
                FROM,
                "[asfc]",
                Duration.ofSeconds(5),
                20,
                new AlertSettings.Smtp("127.0.0.1", port, transport, "", Secret.of("")));
    }

    /** A loopback port nothing listens on: connections to it are refused. */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
