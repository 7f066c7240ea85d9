package io.asfc.common.mail;

import com.sanctionco.jmail.JMail;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.Modes.SmtpTransport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.List;
import java.util.function.UnaryOperator;
import org.simplejavamail.api.mailer.Mailer;
import org.simplejavamail.api.mailer.MailerRegularBuilder;
import org.simplejavamail.api.mailer.config.TransportStrategy;
import org.simplejavamail.email.EmailBuilder;
import org.simplejavamail.mailer.MailerBuilder;

/** Sends mail over SMTP with simplejavamail, on the calling thread; each SMTP step is bounded by the timeout. */
public final class SmtpSender implements MailSender {
    private final Mailer mailer;
    private final InternetAddress from;
    private final List<String> to;

    /** @throws RuntimeException when simplejavamail refuses the settings, e.g. IllegalArgumentException for a bad sender */
    public static SmtpSender create(AlertSettings.Email email) {
        return new SmtpSender(email, UnaryOperator.identity());
    }

    /**
     * @param tuning adjusts the mailer before it is built; tests use it to trust GreenMail's
     *     self-signed certificate
     */
    public SmtpSender(AlertSettings.Email email, UnaryOperator<MailerRegularBuilder<?>> tuning) {
        AlertSettings.Smtp smtp = email.smtp();
        MailerRegularBuilder<?> builder = MailerBuilder.withSMTPServer(smtp.host(), smtp.port())
                .withTransportStrategy(strategy(smtp.transport()))
                .withSessionTimeout(
                        (int) Math.min(Integer.MAX_VALUE, email.timeout().toMillis()))
                // like config validation: plain addresses, and local domains such as ops@localhost
                .withEmailValidator(JMail.validator());
        if (!smtp.user().isBlank()) {
            builder = builder.withSMTPServerUsername(smtp.user())
                    .withSMTPServerPassword(
                            smtp.password().isEmpty() ? null : smtp.password().reveal());
        }
        if (smtp.transport() == SmtpTransport.SMTP) {
            // Plain means plain: simplejavamail would try STARTTLS whenever the server offers it, and
            // then fail on a relay's self-signed certificate. SMTP_TLS is the choice for TLS.
            builder = builder.withProperty("mail.smtp.starttls.enable", "false");
        }
        this.mailer = tuning.apply(builder).buildMailer();
        try {
            // "ops@example.com" or "Airflow <ops@example.com>", as config validation allows
            this.from = new InternetAddress(email.from(), true);
        } catch (AddressException e) {
            throw new IllegalArgumentException("alerts.email.from: " + e.getMessage(), e);
        }
        this.to = List.copyOf(email.to());
    }

    @Override
    public void send(String subject, String body) {
        try {
            mailer.sendMail(EmailBuilder.startingBlank()
                            .from(from.getPersonal(), from.getAddress())
                            .toMultiple(to)
                            .withSubject(subject)
                            .withPlainText(body)
                            .buildEmail())
                    .join();
        } catch (RuntimeException e) {
            throw new MailNotSentException(e);
        }
    }

    private static TransportStrategy strategy(SmtpTransport transport) {
        return switch (transport) {
            case SMTP -> TransportStrategy.SMTP;
            case SMTP_TLS -> TransportStrategy.SMTP_TLS;
            case SMTPS -> TransportStrategy.SMTPS;
        };
    }
}
