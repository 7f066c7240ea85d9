package io.asfc.agent.alerts;

import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.Modes.SmtpTransport;
import io.asfc.common.config.Secret;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;

/** Settings and helpers shared by the alert tests. */
final class Mails {
    static final String TO = "ops@example.com";
    static final String FROM = "asfc@example.com";

    private Mails() {}

    static AlertSettings settings(int port, int maxPerHour) {
        return settings(port, SmtpTransport.SMTP, maxPerHour, "", "");
    }

    static AlertSettings settings(int port, SmtpTransport transport, int maxPerHour, String user, String password) {
        return new AlertSettings(
                5,
                false,
                new AlertSettings.Email(
                        true,
                        List.of(TO),
                        FROM,
                        "[asfc]",
                        Duration.ofSeconds(5),
                        maxPerHour,
                        new AlertSettings.Smtp("127.0.0.1", port, transport, user, Secret.of(password))));
    }

    /** A loopback port nothing listens on: connections to it are refused. */
    static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String subject(MimeMessage message) {
        try {
            return message.getSubject();
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The decoded plain-text body, with \n line ends. */
    static String body(MimeMessage message) {
        try {
            return message.getContent().toString().replace("\r\n", "\n");
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
