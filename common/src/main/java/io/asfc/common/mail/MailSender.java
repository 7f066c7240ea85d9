package io.asfc.common.mail;

/** Sends one mail to the configured recipients and returns once the server accepted it. */
public interface MailSender {
    /** @throws MailNotSentException with the reason, e.g. connection refused */
    void send(String subject, String body);
}
