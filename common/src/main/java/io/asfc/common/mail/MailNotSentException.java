package io.asfc.common.mail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.simplejavamail.MailException;

/** A mail the SMTP server did not accept; the message is the reason, e.g. connection refused. */
public final class MailNotSentException extends RuntimeException {
    public MailNotSentException(Throwable cause) {
        super(reasonOf(cause), cause);
    }

    /**
     * The messages of the cause chain, without simplejavamail's generic wrappers ("Third party
     * error"), e.g. {@code Couldn't connect to host, port: 127.0.0.1, 2525; timeout 10000: Connection
     * refused}.
     */
    static String reasonOf(Throwable e) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = e; t != null && parts.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
            boolean wrapper = t.getCause() != null && (t instanceof MailException || t instanceof CompletionException);
            if (!wrapper) {
                String message = t.getMessage() == null || t.getMessage().isBlank()
                        ? t.getClass().getSimpleName()
                        : t.getMessage().strip().replaceAll("\\s+", " ");
                if (parts.stream().noneMatch(p -> p.contains(message))) {
                    parts.add(message);
                }
            }
        }
        return parts.isEmpty() ? e.toString() : String.join(": ", parts);
    }
}
