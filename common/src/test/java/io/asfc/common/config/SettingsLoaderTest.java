package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.Modes.SchedulerMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsLoaderTest {
    private static final String SECRET = "hunter2-do-not-print";
    private static final String MINIMAL =
            """
            asfc {
              zookeeper.connect = "zk1:2181,zk2:2181"
            }
            """;

    @TempDir
    Path dir;

    private final SettingsLoader loader = new SettingsLoader(Path.of("/opt/asfc"), () -> "host-a");

    @Test
    void minimalConfigGetsDocumentedDefaults() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL));

        assertEquals("default", s.cluster());
        assertEquals("host-a", s.nodeId(), "node.id defaults to the host name");
        assertEquals("zk1:2181,zk2:2181", s.zookeeper().connect());
        assertEquals("/airflow/failover", s.zookeeper().root());
        assertEquals(Duration.ofSeconds(10), s.zookeeper().sessionTimeout());
        assertEquals(Duration.ofSeconds(3), s.zookeeper().selfFenceAfter());
        assertEquals(Duration.ofSeconds(5), s.scheduler().selfFenceStopTimeout());
        assertTrue(S4Budget.of(s).problem().isEmpty(), "the defaults keep the S4 budget");
        assertEquals(SchedulerMode.CHILD, s.scheduler().mode());
        assertEquals(HostKeyChecking.YES, s.ssh().strictHostKeyChecking());
        assertEquals(1000, s.controller().eventsRetain());
        assertEquals(
                Path.of("/opt/asfc/data/zookeeper"), s.zookeeper().embedded().dataDir());
    }

    @Test
    void typoInKeyIsReportedWithFileLineAndSuggestion() throws IOException {
        Path file = write(
                """
                asfc {
                  zookeeper {
                    connect = "zk1:2181"
                    sesion-timeout = 5s
                  }
                }
                """);

        ConfigProblem p = single(file);

        assertEquals("asfc.zookeeper.sesion-timeout", p.key());
        assertEquals(file + ":4", p.origin());
        assertTrue(p.message().contains("did you mean 'session-timeout'"), p.message());
    }

    @Test
    void badDurationIsReportedWithTheKey() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.zookeeper.session-timeout = soon\n"));

        assertEquals("asfc.zookeeper.session-timeout", p.key());
        assertTrue(p.message().contains("bad duration \"soon\""), p.message());
        assertTrue(p.origin().endsWith(":4"), p.origin());
    }

    @Test
    void helperPatternDefaultsToAirflowsHelpersAndMustBeARegex() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL));
        java.util.regex.Pattern helpers =
                java.util.regex.Pattern.compile(s.scheduler().helperPattern().orElseThrow());
        for (String helper : java.util.List.of(
                "airflow scheduler -- DagFileProcessorManager",
                "airflow scheduler - DagFileProcessor /dags/x.py",
                "airflow executor -- LocalExecutor",
                "airflow worker -- LocalExecutor: <idle>")) {
            assertTrue(helpers.matcher(helper).find(), helper);
        }
        for (String main : java.util.List.of(
                "/opt/airflow/venv/bin/python /opt/airflow/venv/bin/airflow scheduler",
                "airflow scheduler -D",
                "airflow scheduler --pid /run/airflow.pid")) {
            assertTrue(!helpers.matcher(main).find(), main);
        }

        ConfigProblem p = single(write(MINIMAL + "asfc.scheduler.helper-pattern = \"(\"\n"));
        assertEquals("asfc.scheduler.helper-pattern", p.key());
        assertTrue(p.message().contains("not a valid regular expression"), p.message());
    }

    @Test
    void inCommandModeTheDeadmanMustBeAbleToMatchTheProcessPattern() throws IOException {
        String command = MINIMAL + "asfc.scheduler.mode = command\n";
        loader.load(write(command)); // the default pattern is plain ERE too

        ConfigProblem p = single(write(command + "asfc.scheduler.process-pattern = \"airflow(?= scheduler)\"\n"));
        assertEquals("asfc.scheduler.process-pattern", p.key());
        assertTrue(p.message().contains("deadman"), p.message());

        // without stop-with-agent there is no deadman to match it
        loader.load(write(command
                + "asfc.scheduler.process-pattern = \"airflow(?= scheduler)\"\n"
                + "asfc.scheduler.stop-with-agent = false\n"));
    }

    @Test
    void badEnumListsTheAllowedValues() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.ssh.strict-host-key-checking = maybe\n"));

        assertEquals("asfc.ssh.strict-host-key-checking", p.key());
        assertTrue(p.message().contains("yes | accept-new | no"), p.message());
    }

    @Test
    void foreignIsStopByDefaultAlertOnRequestAndNothingElse() throws IOException {
        assertEquals(
                Modes.ForeignScheduler.STOP,
                loader.load(write(MINIMAL)).scheduler().foreign());
        assertEquals(
                Modes.ForeignScheduler.ALERT,
                loader.load(write(MINIMAL + "asfc.scheduler.foreign = alert\n"))
                        .scheduler()
                        .foreign());

        ConfigProblem p = single(write(MINIMAL + "asfc.scheduler.foreign = kill\n"));
        assertEquals("asfc.scheduler.foreign", p.key());
        assertTrue(p.message().contains("stop | alert"), p.message());
    }

    @Test
    void httpPortZeroMeansAnyFreePortButNegativeIsRefused() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL + "asfc.http { enabled = true, port = 0 }\n"));
        assertEquals(new HttpSettings(true, "127.0.0.1", 0), s.http());

        ConfigProblem p = single(write(MINIMAL + "asfc.http.port = -1\n"));
        assertEquals("asfc.http.port", p.key());
    }

    @Test
    void missingRequiredValueIsReported() throws IOException {
        ConfigProblem p = single(write("asfc.cluster = prod\n"));

        assertEquals("asfc.zookeeper.connect", p.key());
        assertTrue(p.message().contains("required"), p.message());
    }

    @Test
    void nodeIdMustBeOneOfNodes() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.nodes = [a, b]\nasfc.node.id = c\n"));

        assertEquals("asfc.node.id", p.key());
        assertTrue(p.message().contains("not in nodes [a, b]"), p.message());
    }

    @Test
    void quarantineBackoffDefaultsAndItsMaximumMayNotBeShorter() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL));
        ConfigProblem p =
                single(write(MINIMAL + "asfc.controller { quarantine-backoff = 2m, max-quarantine-backoff = 1m }\n"));

        assertEquals(Duration.ofSeconds(30), s.controller().quarantineBackoff());
        assertEquals(Duration.ofMinutes(10), s.controller().maxQuarantineBackoff());
        assertEquals("asfc.controller.max-quarantine-backoff", p.key());
        assertTrue(p.message().contains("must not be shorter than quarantine-backoff"), p.message());
    }

    @Test
    void selfFenceMustComeBeforeSessionExpiry() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.zookeeper.self-fence-after = 10s\n"));

        assertEquals("asfc.zookeeper.self-fence-after", p.key());
    }

    @Test
    void everyProblemIsReportedAtOnce() throws IOException {
        Path file = write(
                """
                asfc {
                  nodes = [a, b]
                  node.id = c
                  zookeeper { sesion-timeout = 5s, connection-timeout = abc }
                  scheduler.mode = forked
                }
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        List<String> keys = e.problems().stream().map(ConfigProblem::key).toList();
        assertEquals(
                List.of(
                        "asfc.zookeeper.sesion-timeout",
                        "asfc.zookeeper.connect",
                        "asfc.zookeeper.connection-timeout",
                        "asfc.scheduler.mode",
                        "asfc.node.id"),
                keys);
        assertTrue(e.getMessage().startsWith("5 problems in the configuration"), e.getMessage());
    }

    @Test
    void secretIsNeverEchoedInProblems() throws IOException {
        Path file = write(MINIMAL
                + "asfc.alerts.email.smtp.pasword = \"" + SECRET + "\"\n"
                + "asfc.zookeeper.auth { user = u, password = [\"" + SECRET + "\"] }\n"
                + "asfc.ssh.passphrase = { value = \"" + SECRET + "\" }\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(3, e.problems().size(), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    @Test
    void syntaxErrorOnASecretLineHidesTheDetails() throws IOException {
        Path file = write("asfc {\n  alerts.email.smtp.password = " + SECRET + " } }\n}\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("syntax error"), e.getMessage());
    }

    @Test
    void loadedSecretsPrintMasked() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL + "asfc.alerts.email.smtp.password = \"" + SECRET + "\"\n"));

        assertEquals(SECRET, s.alerts().email().smtp().password().reveal());
        assertFalse(s.toString().contains(SECRET), "settings toString must mask secrets");
    }

    @Test
    void environmentOverridesApply() throws IOException {
        // surefire sets ASFC_SMTP_PASSWORD and ASFC_TEST_CLUSTER for this module's tests
        AsfcSettings s = loader.load(write(MINIMAL + "asfc.cluster = ${?ASFC_TEST_CLUSTER}\n"));

        assertEquals("from-env", s.cluster());
        assertEquals("env-secret", s.alerts().email().smtp().password().reveal());
    }

    @Test
    void unsetOptionalEnvironmentOverrideKeepsTheDefault() throws IOException {
        AsfcSettings s = loader.load(write(MINIMAL + "asfc.cluster = ${?ASFC_SURELY_UNSET_VARIABLE}\n"));

        assertEquals("default", s.cluster());
    }

    @Test
    void secretComesFromItsFileLessOneTrailingLineBreak() throws IOException {
        Path zk = Files.writeString(dir.resolve("zk.password"), SECRET + "\n");
        Path ssh = Files.writeString(dir.resolve("ssh.passphrase"), SECRET + " \r\n");
        Path conf = write(MINIMAL
                + "asfc.zookeeper.auth { user = asfc, password-file = \"" + zk + "\" }\n"
                + "asfc.ssh.passphrase-file = ssh.passphrase\n");

        AsfcSettings s = new SettingsLoader(dir, () -> "host-a").load(conf);

        assertEquals(SECRET, s.zookeeper().authPassword().reveal());
        assertEquals(zk, s.zookeeper().authPassword().file().orElseThrow());
        assertEquals(SECRET + " ", s.ssh().passphrase().reveal(), "only the line break is trimmed");
        assertEquals(ssh, s.ssh().passphrase().file().orElseThrow(), "relative to the installation directory");
        assertFalse(s.toString().contains(SECRET), s.toString());
    }

    @Test
    void secretAndItsFileTogetherIsAProblem() throws IOException {
        // surefire sets ASFC_SMTP_PASSWORD, so the SMTP password is already set from the environment
        Path file = Files.writeString(dir.resolve("smtp.password"), SECRET);

        ConfigProblem p = single(write(MINIMAL + "asfc.alerts.email.smtp.password-file = \"" + file + "\"\n"));

        assertEquals("asfc.alerts.email.smtp.password-file", p.key());
        assertTrue(p.message().contains("and so is asfc.alerts.email.smtp.password"), p.message());
        assertTrue(p.message().contains("set only one of them"), p.message());
    }

    @Test
    void unusableSecretFilesAreProblemsThatNameTheFileButNotItsContent() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        Path big = Files.writeString(dir.resolve("big"), SECRET.repeat(10_000));
        Path absentAndEmpty = write(MINIMAL
                + "asfc.zookeeper.auth { user = asfc, password-file = \"" + dir.resolve("absent") + "\" }\n"
                + "asfc.ssh.passphrase-file = \"" + empty + "\"\n");
        Path tooBig = write(MINIMAL + "asfc.zookeeper.auth { user = asfc, password-file = \"" + big + "\" }\n");

        String first = assertThrows(InvalidConfigException.class, () -> loader.load(absentAndEmpty))
                .getMessage();
        String second = assertThrows(InvalidConfigException.class, () -> loader.load(tooBig))
                .getMessage();

        assertTrue(first.contains(dir.resolve("absent") + " does not exist"), first);
        assertTrue(first.contains(empty + " is empty"), first);
        assertTrue(second.contains(big + " is larger than 64 KiB"), second);
        assertFalse(second.contains(SECRET), second);
    }

    @Test
    void missingFileIsAProblem() {
        Path missing = dir.resolve("nope.conf");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(missing));

        assertTrue(e.getMessage().contains("config file not found"), e.getMessage());
    }

    @Test
    void freeFormMapsAcceptUserKeysButSshHostsOnlyUserAndPort() throws IOException {
        Path file = write(MINIMAL
                + "asfc.nodes = [a, b]\nasfc.node.id = a\n"
                + "asfc.scheduler.environment { AIRFLOW_HOME = \"/opt/airflow\" }\n"
                + "asfc.ssh.hosts.b { port = 2222, usr = x }\n");

        ConfigProblem p = single(file);

        assertEquals("asfc.ssh.hosts.b.usr", p.key());
    }

    @Test
    void watchdogDeviceIsOffByDefaultAndMustBeFeedableByTheDeadman() throws IOException {
        assertTrue(loader.load(write(MINIMAL)).scheduler().watchdogDevice().isEmpty());
        Path device = Files.createFile(dir.resolve("watchdog"));
        String set = MINIMAL + "asfc.scheduler.watchdog.device = \"" + device + "\"\n";
        assertEquals(Optional.of(device), loader.load(write(set)).scheduler().watchdogDevice());

        ConfigProblem missing =
                single(write(MINIMAL + "asfc.scheduler.watchdog.device = \"" + dir.resolve("none") + "\"\n"));
        assertEquals("asfc.scheduler.watchdog.device", missing.key());
        assertTrue(missing.message().contains("does not exist"), missing.message());

        ConfigProblem withoutDeadman = single(write(set + "asfc.scheduler.stop-with-agent = false\n"));
        assertEquals("asfc.scheduler.watchdog.device", withoutDeadman.key());
        assertTrue(withoutDeadman.message().contains("stop-with-agent"), withoutDeadman.message());

        assertEquals(
                Optional.of(device),
                loader.load(write(set + "asfc.scheduler.mode = command\n"))
                        .scheduler()
                        .watchdogDevice(),
                "both modes' deadmans feed it");
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
