package io.asfc.agent.alerts;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** Writes the subject and body of alert mails. */
final class AlertMail {
    /** One mail's text. */
    record Mail(String subject, String body) {
        /** This mail with a paragraph added at the end. */
        Mail withNote(String note) {
            return new Mail(subject, body + "\n" + note + "\n");
        }
    }

    private final String subjectPrefix;
    private final String cluster;
    private final String nodeId;

    /**
     * @param subjectPrefix {@code alerts.email.subject-prefix}
     * @param cluster the cluster's name, in every subject
     * @param nodeId the agent that sends, in every body
     */
    AlertMail(String subjectPrefix, String cluster, String nodeId) {
        this.subjectPrefix = subjectPrefix;
        this.cluster = cluster;
        this.nodeId = nodeId;
    }

    Mail alert(Alert alert, Instant at) {
        return new Mail(
                subject(shortText(alert.kind(), alert.node())),
                line("What happened", alert.what())
                        + line("Where", where(alert.node()))
                        + line("What the controller did", alert.action().isBlank() ? "nothing" : alert.action())
                        + footer(at)
                        + (alert.kind().oneOff()
                                ? ""
                                : "\nThis alert is not mailed again while it lasts; a RECOVERED mail follows when it ends.\n"));
    }

    Mail recovered(Alert alert, String whatEnded, Instant at) {
        return new Mail(
                subject("RECOVERED: " + shortText(alert.kind(), alert.node())),
                line("Recovered", shortText(alert.kind(), alert.node()))
                        + line("What ended", whatEnded == null ? "" : whatEnded)
                        + line("Where", where(alert.node()))
                        + line("Alerted about", alert.what())
                        + footer(at));
    }

    Mail test(List<String> to, Instant at) {
        return new Mail(
                subject("test e-mail from agent " + nodeId),
                "This is a test e-mail from 'asfc-agent send-test-email'. Alerts of this cluster are mailed to:\n"
                        + String.join(", ", to) + "\n\n"
                        + footer(at));
    }

    /** The note added to the next mail that goes out after some were held back by the rate limit. */
    String suppressedNote(int count, int maxPerHour) {
        return "Suppressed: " + count + (count == 1 ? " alert mail was" : " alert mails were")
                + " not sent before this one, because of the limit of " + maxPerHour
                + " mails per hour (alerts.email.max-per-hour). The log of agent " + nodeId + " lists them.";
    }

    /** What an alert is about, in a few words, e.g. {@code stray scheduler stopped on c}. */
    static String shortText(AlertKind kind, String node) {
        if (node == null) {
            return switch (kind) {
                case START_FAILURES -> "scheduler keeps failing to start";
                case SCHEDULER_MOVED -> "scheduler moved";
                case STRAY_STOPPED -> "stray scheduler stopped";
                case UNFENCEABLE -> "a node cannot be fenced";
                case HOST_UNREACHABLE -> "a host is unreachable";
                case NO_ELIGIBLE_NODE -> "no eligible node for the scheduler";
                case LEADERSHIP_CHANGE -> "active controller changed";
                case QUARANTINE -> "a node's quarantine changed";
                case FOREIGN_SCHEDULER -> "a scheduler asfc did not start";
                case WATCHDOG_DEVICE -> "a deadman cannot feed its watchdog device";
            };
        }
        return switch (kind) {
            case START_FAILURES -> "scheduler keeps failing to start on " + node;
            case SCHEDULER_MOVED -> "scheduler moved off " + node;
            case STRAY_STOPPED -> "stray scheduler stopped on " + node;
            case UNFENCEABLE -> "cannot fence " + node;
            case HOST_UNREACHABLE -> "host " + node + " is unreachable";
            case NO_ELIGIBLE_NODE -> "no eligible node for the scheduler (" + node + ")";
            case LEADERSHIP_CHANGE -> node + " is now the active controller";
            case QUARANTINE -> "quarantine of " + node + " changed";
            case FOREIGN_SCHEDULER -> "a scheduler asfc did not start, on " + node;
            case WATCHDOG_DEVICE -> "the deadman on " + node + " cannot feed its watchdog device";
        };
    }

    private String subject(String text) {
        return (subjectPrefix.isBlank() ? "" : subjectPrefix.strip() + " ") + cluster + ": " + text;
    }

    private String footer(Instant at) {
        return line("Sent by", "agent " + nodeId + " of cluster " + cluster)
                + line("Time", DateTimeFormatter.ISO_INSTANT.format(at.truncatedTo(ChronoUnit.SECONDS)));
    }

    private static String where(String node) {
        return node == null ? "the whole cluster" : "node " + node;
    }

    private static String line(String label, String value) {
        return label + ": " + value + "\n";
    }
}
