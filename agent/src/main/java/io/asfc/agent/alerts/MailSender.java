package io.asfc.agent.alerts;

/** Sends one mail to the configured recipients and returns once the server accepted it. */
interface MailSender {
    /** @throws MailNotSentException with the reason, e.g. connection refused */
    void send(String subject, String body);
}
