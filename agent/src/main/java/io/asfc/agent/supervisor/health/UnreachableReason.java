package io.asfc.agent.supervisor.health;

import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLException;

/** Says in a few words why a health URL gave no answer, e.g. "connection refused" or "TLS: …". */
final class UnreachableReason {
    private UnreachableReason() {}

    static String timedOut(Duration timeout) {
        return "timed out after " + timeout.toMillis() + "ms";
    }

    static String describe(Throwable failure, URI url, Duration timeout) {
        if (find(failure, HttpConnectTimeoutException.class) != null) {
            return "connect " + timedOut(timeout);
        }
        if (find(failure, HttpTimeoutException.class) != null) {
            return timedOut(timeout);
        }
        if (find(failure, UnresolvedAddressException.class) != null
                || find(failure, UnknownHostException.class) != null) {
            return "unknown host " + url.getHost();
        }
        SSLException tls = find(failure, SSLException.class);
        if (tls != null) {
            return "TLS: " + message(root(tls));
        }
        ConnectException connect = find(failure, ConnectException.class);
        if (connect != null) {
            String message = connect.getMessage();
            return message == null || message.toLowerCase(Locale.ROOT).contains("refused")
                    ? "connection refused"
                    : "cannot connect: " + message;
        }
        return message(failure);
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static Throwable root(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String message(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
