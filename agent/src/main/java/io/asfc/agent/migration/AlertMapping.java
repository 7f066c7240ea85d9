package io.asfc.agent.migration;

import static io.asfc.agent.migration.Source.FAILOVER;

import io.asfc.agent.migration.AirflowCfg.Entry;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code retry_count_before_alerting}, {@code alert_to_email}, {@code alert_email_subject} and the
 * {@code [smtp]} section → {@code asfc.alerts}.
 *
 * <p>The Python tool sent its alerts through Airflow's own email backend, so the {@code [smtp]} values
 * are read as Airflow reads them (with %-interpolation), and a key missing there takes Airflow's
 * default, as it did. The password is never copied: it becomes {@code ${?ASFC_SMTP_PASSWORD}}.
 */
final class AlertMapping {
    static final String SMTP = "smtp";
    static final String PYTHON_DEFAULT_SUBJECT =
            "Airflow Alert - Scheduler Failover Controller Failed to Startup Scheduler";
    static final String PLACEHOLDER_RECIPIENT = "airflow@airflow.com";

    /** The [smtp] keys this mapping reads; any other key of [smtp] gets a NOT MAPPED note. */
    private static final Set<String> SMTP_KEYS = Set.of(
            "smtp_host", "smtp_port", "smtp_starttls", "smtp_ssl", "smtp_user", "smtp_password", "smtp_mail_from");

    private final Source src;
    private final Hocon out;

    private AlertMapping(Source src, Hocon out) {
        this.src = src;
        this.out = out;
    }

    static void write(Source src, Hocon out) {
        new AlertMapping(src, out).write();
    }

    private void write() {
        out.open("alerts");
        retryCount();
        out.open("email");
        boolean enabled = recipients();
        subject();
        if (enabled || src.cfg().hasSection(SMTP)) {
            smtpSetting("smtp_mail_from", "from", "airflow@example.com", AlertMapping::string);
            out.open("smtp");
            smtpSetting("smtp_host", "host", "localhost", AlertMapping::string);
            smtpSetting("smtp_port", "port", "25", AlertMapping::port);
            transport();
            smtpSetting("smtp_user", "user", null, AlertMapping::string);
            password();
            out.close();
            otherSmtpKeys();
        }
        out.close();
        out.close();
    }

    private void retryCount() {
        src.takeNonBlank(FAILOVER, "retry_count_before_alerting").ifPresent(e -> {
            Optional<Integer> n = integer(e.value()).filter(v -> v >= 1 && v <= 1000);
            if (n.isEmpty()) {
                src.notMapped(FAILOVER, e, "asfc needs a whole number from 1 to 1000; its default 5 applies");
                return;
            }
            out.quote(Source.from(FAILOVER, e));
            out.comment("asfc alerts after this many failed starts in a row.");
            out.set("retry-count-before-alerting", String.valueOf(n.get()));
        });
    }

    /** Whether email alerts are on. */
    private boolean recipients() {
        Optional<Entry> to = src.takeNonBlank(FAILOVER, "alert_to_email");
        List<String> addresses = to.map(e -> Arrays.stream(e.value().split("[,;]"))
                        .map(String::strip)
                        .filter(s -> !s.isEmpty())
                        .toList())
                .orElse(List.of());
        if (addresses.isEmpty()) {
            out.comment("alert_to_email is not set: email alerts stay off, as they were.");
            out.set("enabled", "false");
            return false;
        }
        out.quote(Source.from(FAILOVER, to.get()));
        out.comment("The Python tool mailed its alerts through Airflow's email backend, with the [smtp] settings"
                + " below.");
        if (addresses.contains(PLACEHOLDER_RECIPIENT)) {
            out.comment("CHECK: " + PLACEHOLDER_RECIPIENT + " is the placeholder the Python tool's init wrote.");
        }
        out.set("enabled", "true");
        out.set("to", Hocon.list(addresses));
        return true;
    }

    private void subject() {
        src.takeNonBlank(FAILOVER, "alert_email_subject").ifPresent(e -> {
            if (e.value().strip().equals(PYTHON_DEFAULT_SUBJECT)) {
                src.notMapped(
                        FAILOVER,
                        e,
                        "the Python tool's default; asfc writes its own subject for each kind of alert, after"
                                + " subject-prefix (default \"[asfc]\") and the cluster name");
                return;
            }
            out.quote(Source.from(FAILOVER, e));
            out.comment("asfc writes its own subject for each kind of alert; this comes first, then the cluster.");
            out.set("subject-prefix", Hocon.str(e.value().strip()));
        });
    }

    private void transport() {
        Optional<Entry> starttls = src.takeNonBlank(SMTP, "smtp_starttls");
        Optional<Entry> ssl = src.takeNonBlank(SMTP, "smtp_ssl");
        boolean useStarttls = bool(starttls, true);
        boolean useSsl = bool(ssl, false);
        String transport = useSsl ? "SMTPS" : useStarttls ? "SMTP_TLS" : "SMTP";
        if (starttls.isEmpty() && ssl.isEmpty()) {
            out.comment("[smtp] smtp_starttls and smtp_ssl are not set: Airflow's defaults True and False, which the"
                    + " Python tool used.");
        } else {
            out.quote("from [smtp] smtp_starttls = "
                    + starttls.map(e -> Hocon.oneLine(e.value())).orElse("(not set: True)")
                    + ", smtp_ssl = " + ssl.map(e -> Hocon.oneLine(e.value())).orElse("(not set: False)"));
        }
        if (useSsl && useStarttls) {
            out.comment("smtp_ssl wins, as it does in Airflow (it opens an SSL connection first).");
        }
        out.set("transport", transport);
    }

    private void password() {
        Optional<Entry> password = src.takeNonBlank(SMTP, "smtp_password");
        if (password.isEmpty()) {
            return;
        }
        out.comment("from [smtp] smtp_password: NOT copied, asfc never writes a secret in clear. Give the agent"
                + " the environment variable ASFC_SMTP_PASSWORD: \"export ASFC_SMTP_PASSWORD=…\" in"
                + " conf/asfc-env.sh (mode 600), or ASFC_SMTP_PASSWORD=… in /etc/default/asfc-agent under systemd.");
        out.set("password", "${?ASFC_SMTP_PASSWORD}");
    }

    private void otherSmtpKeys() {
        for (String key : src.cfg().keys(SMTP)) {
            if (SMTP_KEYS.contains(key)) {
                continue;
            }
            Entry e = src.cfg().raw(SMTP, key).orElseThrow();
            String why = key.startsWith("smtp_password")
                    ? "asfc takes the SMTP password from ASFC_SMTP_PASSWORD only"
                    : "asfc has no such SMTP setting";
            src.notMapped(SMTP, e, why);
        }
        src.cfg().raw("email", "email_backend").ifPresent(e -> {
            if (!e.value().strip().endsWith("send_email_smtp")) {
                src.notMapped("email", e, "asfc sends its alerts over SMTP only, with the settings above");
            }
        });
    }

    /**
     * An [smtp] value, read as Airflow reads it, becomes {@code hoconKey} with its "from" comment. A
     * missing key takes Airflow's default, as it did for the Python tool (none when {@code airflowDefault}
     * is null). A value that {@code render} refuses, or that Airflow could not read, gets a NOT MAPPED note.
     */
    private void smtpSetting(
            String key, String hoconKey, String airflowDefault, Function<String, Optional<String>> render) {
        Optional<Entry> e = src.takeNonBlank(SMTP, key);
        if (e.isEmpty()) {
            if (airflowDefault != null) {
                out.comment("[smtp] " + key + " is not set: Airflow's default " + airflowDefault
                        + ", which the Python tool used.");
                out.set(hoconKey, render.apply(airflowDefault).orElseThrow());
            }
            return;
        }
        Optional<String> rendered;
        try {
            rendered =
                    render.apply(src.cfg().interpolated(SMTP, key).orElseThrow().strip());
        } catch (AirflowCfg.BadInterpolation bad) {
            src.notMapped(SMTP, e.get(), bad.getMessage() + "; Airflow could not read it either");
            return;
        }
        if (rendered.isEmpty()) {
            src.notMapped(SMTP, e.get(), "not a valid " + hoconKey + "; asfc's default applies");
            return;
        }
        out.quote(Source.from(SMTP, e.get()));
        out.set(hoconKey, rendered.get());
    }

    private static Optional<String> string(String value) {
        return Optional.of(Hocon.str(value));
    }

    private static Optional<String> port(String value) {
        return integer(value).filter(p -> p >= 1 && p <= 65535).map(String::valueOf);
    }

    /** Airflow's getboolean: t/true/1 and f/false/0 (configparser also knows yes/on, no/off). */
    private boolean bool(Optional<Entry> e, boolean airflowDefault) {
        if (e.isEmpty()) {
            return airflowDefault;
        }
        String v = e.get().value().split("#")[0].strip().toLowerCase(Locale.ROOT);
        if (Set.of("t", "true", "1", "yes", "on").contains(v)) {
            return true;
        }
        if (Set.of("f", "false", "0", "no", "off").contains(v)) {
            return false;
        }
        src.notMapped(SMTP, e.get(), "not true or false; Airflow's default " + airflowDefault + " is assumed");
        return airflowDefault;
    }

    private static Optional<Integer> integer(String value) {
        try {
            return Optional.of(Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
