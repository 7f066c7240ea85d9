package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.SmtpTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code asfc.alerts}: defaults, and the checks made when e-mail is enabled. */
class AlertConfigTest {
    private static final String MINIMAL =
            """
            asfc {
              zookeeper.connect = "zk1:2181"
            }
            """;
    private static final String ENABLED = MINIMAL
            + """
            asfc.alerts.email {
              enabled = true
              to = ["ops@example.com", "on-call+asfc@mail.example.org"]
              from = "asfc@localhost"
              smtp { host = "smtp.example.com", port = 465, transport = smtps, user = mailer, password = "pw" }
            }
            """;

    @TempDir
    Path dir;

    private final SettingsLoader loader = new SettingsLoader(Path.of("/opt/asfc"), () -> "host-a");

    @Test
    void defaultsAreDocumented() throws IOException {
        AlertSettings alerts = loader.load(write(MINIMAL)).alerts();

        assertEquals(5, alerts.retryCountBeforeAlerting());
        assertFalse(alerts.onLeadershipChange());
        assertFalse(alerts.email().enabled());
        assertEquals(Duration.ofSeconds(10), alerts.email().timeout());
        assertEquals(20, alerts.email().maxPerHour());
        assertEquals("[asfc]", alerts.email().subjectPrefix());
        assertEquals(SmtpTransport.SMTP, alerts.email().smtp().transport());
    }

    @Test
    void senderMayCarryADisplayName() throws IOException {
        AlertSettings alerts = loader.load(
                        write(ENABLED + "asfc.alerts.email.from = \"Airflow 100% <airflow@example.com>\"\n"))
                .alerts();

        assertEquals("Airflow 100% <airflow@example.com>", alerts.email().from());
    }

    @Test
    void enabledEmailLoadsEveryKey() throws IOException {
        AlertSettings alerts = loader.load(write(ENABLED
                        + "asfc.alerts { on-leadership-change = true, email { timeout = 3s, max-per-hour = 5 } }\n"))
                .alerts();

        assertTrue(alerts.onLeadershipChange());
        assertEquals(
                List.of("ops@example.com", "on-call+asfc@mail.example.org"),
                alerts.email().to());
        assertEquals("asfc@localhost", alerts.email().from());
        assertEquals(Duration.ofSeconds(3), alerts.email().timeout());
        assertEquals(5, alerts.email().maxPerHour());
        assertEquals(SmtpTransport.SMTPS, alerts.email().smtp().transport());
        assertEquals("pw", alerts.email().smtp().password().reveal());
    }

    @Test
    void smtpTlsIsSpelledEitherWay() throws IOException {
        assertEquals(
                SmtpTransport.SMTP_TLS,
                loader.load(write(ENABLED + "asfc.alerts.email.smtp.transport = SMTP_TLS\n"))
                        .alerts()
                        .email()
                        .smtp()
                        .transport());
        assertEquals(
                SmtpTransport.SMTP_TLS,
                loader.load(write(ENABLED + "asfc.alerts.email.smtp.transport = smtp-tls\n"))
                        .alerts()
                        .email()
                        .smtp()
                        .transport());
    }

    @Test
    void enabledEmailNeedsRecipientsSenderAndHost() throws IOException {
        Path file = write(
                MINIMAL
                        + """
                asfc.alerts.email {
                  enabled = true
                  smtp.host = ""
                }
                asfc.alerts.email.smtp.password = ""
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(
                List.of("asfc.alerts.email.to", "asfc.alerts.email.from", "asfc.alerts.email.smtp.host"),
                e.problems().stream().map(ConfigProblem::key).toList(),
                e.getMessage());
        assertTrue(e.problems().get(0).message().contains("at least one recipient"), e.getMessage());
        assertEquals(file + ":6", e.problems().get(2).origin());
    }

    @Test
    void aMissingKeyPointsAtTheUsersBlockNeverAtReferenceConfInTheJar() throws IOException {
        Path file = write(
                """
                asfc {
                  zookeeper.connect = "zk1:2181"
                  alerts {
                    email {
                      enabled = true
                      smtp.host = "smtp.example.com"
                    }
                  }
                }
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        ConfigProblem to = e.problems().stream()
                .filter(p -> p.key().equals("asfc.alerts.email.to"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(e.getMessage()));
        assertEquals(file + ":4", to.origin(), "the line of 'email {', where email is enabled");
        assertFalse(e.getMessage().contains("reference.conf"), e.getMessage());
        assertTrue(e.getMessage().contains(file + ":4: asfc.alerts.email.to: "), e.getMessage());
    }

    @Test
    void aProblemInAFileThatSetsNothingAroundTheKeyNamesTheFile() throws IOException {
        Path file = write(MINIMAL + "asfc.alerts.email.enabled = true\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertFalse(e.getMessage().contains("reference.conf"), e.getMessage());
        e.problems().forEach(p -> assertTrue(p.origin().startsWith(file.toString()), p.toString()));
    }

    @Test
    void everyAddressMustBeValidWithFileAndLine() throws IOException {
        Path file = write(
                ENABLED
                        + """
                asfc.alerts.email.to = ["ops@example.com", "ops at example.com"]
                asfc.alerts.email.from = "asfc@"
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(2, e.problems().size(), e.getMessage());
        ConfigProblem to = e.problems().get(0);
        assertEquals("asfc.alerts.email.to", to.key());
        assertEquals(file + ":10", to.origin());
        assertTrue(to.message().contains("\"ops at example.com\" is not a valid e-mail address"), to.message());
        assertEquals("asfc.alerts.email.from", e.problems().get(1).key());
        assertEquals(file + ":11", e.problems().get(1).origin());
    }

    @Test
    void addressesAreNotCheckedWhileEmailIsDisabled() throws IOException {
        AlertSettings alerts = loader.load(write(MINIMAL + "asfc.alerts.email.to = [\"nobody\"]\n"))
                .alerts();

        assertEquals(List.of("nobody"), alerts.email().to());
    }

    @Test
    void badTimeoutRateAndFlagAreReported() throws IOException {
        Path file = write(
                MINIMAL
                        + """
                asfc.alerts {
                  on-leadership-change = sometimes
                  email { timeout = soon, max-per-hour = 0 }
                }
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(
                List.of(
                        "asfc.alerts.on-leadership-change",
                        "asfc.alerts.email.timeout",
                        "asfc.alerts.email.max-per-hour"),
                e.problems().stream().map(ConfigProblem::key).toList(),
                e.getMessage());
        assertTrue(e.problems().get(0).message().contains("true or false"), e.getMessage());
        assertTrue(e.problems().get(1).message().contains("bad duration \"soon\""), e.getMessage());
        assertTrue(e.problems().get(2).message().contains("between 1 and 10000, not 0"), e.getMessage());
        assertEquals(file + ":6", e.problems().get(1).origin());
    }

    @Test
    void userAndPasswordComeTogether() throws IOException {
        ConfigProblem noPassword = single(write(ENABLED + "asfc.alerts.email.smtp.password = \"\"\n"));
        ConfigProblem noUser = single(write(ENABLED + "asfc.alerts.email.smtp.user = \"\"\n"));

        assertEquals("asfc.alerts.email.smtp.password", noPassword.key());
        assertTrue(noPassword.message().contains("required when smtp.user is set"), noPassword.message());
        assertEquals("asfc.alerts.email.smtp.password", noUser.key());
        assertTrue(noUser.message().contains("smtp.user is required too"), noUser.message());
        assertFalse(noUser.toString().contains("pw"), noUser.toString());
    }

    @Test
    void typoInANewKeyIsUnknown() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.alerts.email.max-per-hr = 5\n"));

        assertEquals("asfc.alerts.email.max-per-hr", p.key());
        assertTrue(p.message().contains("did you mean 'max-per-hour'"), p.message());
    }

    private ConfigProblem single(Path file) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));
        assertEquals(1, e.problems().size(), e.getMessage());
        return e.problems().get(0);
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "asfc", ".conf");
        Files.writeString(file, content);
        return file;
    }
}
