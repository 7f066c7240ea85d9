package io.asfc.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.InvalidConfigException;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.Modes.SmtpTransport;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.config.SettingsLoader;
import io.asfc.common.config.SshSettings;
import io.asfc.common.net.Hostnames;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportAirflowCfgCommandTest {
    private static final String SMTP_PASSWORD = "S3cr3t-Smtp-Pa55";
    private static final String SSH_PASSWORD = "Hunter2-Ssh-Pa55";

    @TempDir
    Path dir;

    @Test
    void initTemplateBecomesAChildModeConfigThatLoadsWithoutProblems() throws Exception {
        Path conf = dir.resolve("asfc.conf");

        CliRun run =
                CliRun.of("import-airflow-cfg", fixture("init-template.cfg").toString(), "--output", conf.toString());
        AsfcSettings s = load(conf, Hostnames::local);

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("wrote " + conf), run::toString);
        assertEquals(List.of(Hostnames.local()), s.nodes(), "localhost is this host");
        assertEquals(Hostnames.local(), s.nodeId());
        assertEquals("localhost:2181", s.zookeeper().connect());
        SchedulerSettings sched = s.scheduler();
        assertEquals(SchedulerMode.CHILD, sched.mode());
        assertEquals("airflow scheduler", sched.startCommand());
        assertEquals(Map.of("AIRFLOW_HOME", "/home/airflow/airflow"), sched.environment());
        assertEquals(Optional.empty(), sched.stopCommand());
        assertEquals(Optional.of("http://localhost:8080/health"), sched.health().url());
        assertEquals(HealthFormat.AIRFLOW_JSON, sched.health().format());
        assertEquals(Duration.ofSeconds(10), s.controller().pollInterval());
        assertEquals(HostKeyChecking.YES, s.ssh().strictHostKeyChecking());
        assertEquals(5, s.alerts().retryCountBeforeAlerting());
        assertTrue(s.alerts().email().enabled());
        assertEquals(List.of("airflow@airflow.com"), s.alerts().email().to());
        assertEquals("airflow@example.com", s.alerts().email().from());
        assertEquals("localhost", s.alerts().email().smtp().host());
        assertEquals(25, s.alerts().email().smtp().port());
        assertEquals(SmtpTransport.SMTP_TLS, s.alerts().email().smtp().transport());
        assertEquals(0, CliRun.of("--conf", conf.toString(), "check-config").exitCode());
    }

    @Test
    void customisedConfigLoadsWithoutProblemsAndKeepsEveryChange() throws Exception {
        Path conf = dir.resolve("asfc.conf");

        CliRun run = CliRun.of(
                "import-airflow-cfg",
                fixture("customised.cfg").toString(),
                "-o",
                conf.toString(),
                "--node-id",
                "sched-b");
        AsfcSettings s = load(conf, () -> "not-used-as-node-id-is-set");

        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(List.of("sched-a", "sched-b", "sched-c"), s.nodes());
        assertEquals("sched-b", s.nodeId());
        assertEquals("zk1:2181,zk2:2181,zk3:2181", s.zookeeper().connect());
        SchedulerSettings sched = s.scheduler();
        assertEquals(SchedulerMode.COMMAND, sched.mode());
        assertEquals(
                "export AIRFLOW_HOME=/opt/airflow;. /opt/airflow/venv/bin/activate;"
                        + "/opt/airflow/bin/start-scheduler.sh --queue default &",
                sched.startCommand());
        assertEquals(Optional.of("/opt/airflow/bin/stop-scheduler.sh --graceful"), sched.stopCommand());
        assertEquals(
                Optional.of("https://airflow.example.com/health"),
                sched.health().url());
        assertEquals(Duration.ofSeconds(5), s.controller().pollInterval());
        assertEquals(
                new SshSettings.HostOverride("airflow", 22), s.ssh().hosts().get("sched-c"));
        assertEquals(3, s.alerts().retryCountBeforeAlerting());
        assertEquals(
                List.of("data-oncall@example.com", "airflow-admins@example.com"),
                s.alerts().email().to());
        assertEquals("Airflow 100% <airflow@example.com>", s.alerts().email().from(), "%% is Airflow's escaped %");
        assertEquals("[PROD] Airflow scheduler failover", s.alerts().email().subjectPrefix());
        assertEquals("smtp.example.com", s.alerts().email().smtp().host());
        assertEquals(587, s.alerts().email().smtp().port());
        assertEquals(SmtpTransport.SMTP_TLS, s.alerts().email().smtp().transport());
        assertEquals("alerts@example.com", s.alerts().email().smtp().user());
    }

    @Test
    void withoutNodeIdOneFileServesEveryNodeAndTheUserIsToldWhenThisHostIsNotOne() throws Exception {
        CliRun run = CliRun.of("import-airflow-cfg", fixture("customised.cfg").toString());
        Path conf = Files.writeString(dir.resolve("asfc.conf"), run.out());

        assertEquals(0, run.exitCode(), run::toString);
        assertFalse(run.out().contains("node.id ="), run.out());
        for (String node : List.of("sched-a", "sched-b", "sched-c")) {
            assertEquals(node, load(conf, () -> node).nodeId());
        }
        assertTrue(
                run.err().contains("note: this host (" + Hostnames.local() + ") is not one of the nodes"),
                run::toString);
    }

    @Test
    void everyMappedKeyNamesTheKeyItCameFrom() throws Exception {
        String out = imported("customised.cfg", "--node-id", "sched-a");

        for (String key : List.of(
                "scheduler_nodes_in_cluster",
                "metadata_service_zookeeper_nodes",
                "poll_frequency",
                "airflow_scheduler_start_command",
                "airflow_scheduler_stop_command",
                "retry_count_before_alerting",
                "alert_to_email",
                "alert_email_subject")) {
            assertTrue(out.contains("# from [scheduler_failover] " + key + " = "), key + "\n" + out);
        }
        for (String key : List.of("smtp_host", "smtp_port", "smtp_user", "smtp_mail_from")) {
            assertTrue(out.contains("# from [smtp] " + key + " = "), key + "\n" + out);
        }
        assertTrue(out.contains("# from [smtp] smtp_starttls = True, smtp_ssl = False"), out);
        assertTrue(out.contains("# from [smtp] smtp_password: NOT copied"), out);
        assertTrue(out.contains("# from [webserver] base_url = https://airflow.example.com/"), out);
    }

    @Test
    void thePythonToolsPitfallsAreFixedAndSaidSo() throws Exception {
        String template = imported("init-template.cfg");
        String customised = imported("customised.cfg", "--node-id", "sched-a");

        // ';;' in the start command: dropped, in both modes
        assertTrue(template.contains("- \";;\" dropped: an empty command is a syntax error"), template);
        assertTrue(customised.contains("Fixed: an empty command (\";;\""), customised);
        assertFalse(setting(customised, "start-command").contains(";;"), customised);
        // nohup ... & only in command mode; the default command runs as asfc's child
        assertTrue(template.contains("mode = child\n"), template);
        assertTrue(template.contains("\"nohup\" and \"&\" dropped"), template);
        assertTrue(template.contains("start-command = \"airflow scheduler\"\n"), template);
        assertTrue(customised.contains("mode = command\n"), customised);
        assertTrue(customised.contains("It stays a command (mode = command)"), customised);
        // source is not /bin/sh
        assertTrue(customised.contains("Fixed: \"source\" became \".\""), customised);
        // the kill -9 loop becomes asfc's tree stop
        assertTrue(template.contains("stop-command = \"\"\n"), template);
        assertTrue(template.contains("Not used: it killed with kill -9 every process"), template);
        assertTrue(template.contains("asfc stops the scheduler's process tree instead, SIGTERM first"), template);
        // host keys are checked
        for (String out : List.of(template, customised)) {
            assertTrue(out.contains("strict-host-key-checking = yes\n"), out);
            assertTrue(out.contains("StrictHostKeyChecking=no"), out);
        }
    }

    @Test
    void keysWithoutAPlaceInAsfcGetANotMappedNote() throws Exception {
        String out = imported("customised.cfg", "--node-id", "sched-a");

        assertTrue(
                out.contains("# NOT MAPPED: failover_team = data-platform — not a setting of the Python failover"),
                out);
        assertTrue(out.contains("# NOT MAPPED: pass_word = ****** (a secret: value not shown) — SSH password"), out);
        assertTrue(out.contains("# NOT MAPPED: [smtp] smtp_timeout = 30 — "), out);
        assertTrue(out.contains("# NOT MAPPED: logging_level = DEBUG — set ASFC_LOG_LEVEL=DEBUG"), out);
        assertTrue(out.contains("# NOT MAPPED: metadata_service_type = ZookeeperMetadataService — "), out);
    }

    @Test
    void noPasswordIsWrittenInClear() throws Exception {
        Path conf = dir.resolve("asfc.conf");

        CliRun toFile = CliRun.of(
                "import-airflow-cfg",
                fixture("customised.cfg").toString(),
                "-o",
                conf.toString(),
                "--node-id",
                "sched-a");
        CliRun toStdout =
                CliRun.of("import-airflow-cfg", fixture("customised.cfg").toString());
        String written = unwrapped(Files.readString(conf));

        for (String text : List.of(written, toFile.out(), toFile.err(), toStdout.out(), toStdout.err())) {
            assertFalse(text.contains(SMTP_PASSWORD), text);
            assertFalse(text.contains(SSH_PASSWORD), text);
        }
        assertTrue(written.contains("password = ${?ASFC_SMTP_PASSWORD}\n"), written);
        assertTrue(written.contains("ASFC_SMTP_PASSWORD=…"), "the comment says how to set it: " + written);
    }

    @Test
    void standardOutputAndOutputFileHoldTheSameConfig() throws Exception {
        Path conf = dir.resolve("asfc.conf");

        CliRun toStdout =
                CliRun.of("import-airflow-cfg", fixture("init-template.cfg").toString());
        CliRun toFile =
                CliRun.of("import-airflow-cfg", fixture("init-template.cfg").toString(), "-o", conf.toString());

        assertEquals(0, toStdout.exitCode(), toStdout::toString);
        assertEquals(toStdout.out(), Files.readString(conf));
        assertEquals(0, toFile.exitCode(), toFile::toString);
    }

    @Test
    void outputRefusesToOverwriteUnlessForced() throws Exception {
        Path conf = Files.writeString(dir.resolve("asfc.conf"), "keep me\n");
        String cfg = fixture("init-template.cfg").toString();

        CliRun refused = CliRun.of("import-airflow-cfg", cfg, "--output", conf.toString());
        String afterRefusal = Files.readString(conf);
        CliRun forced = CliRun.of("import-airflow-cfg", cfg, "--output", conf.toString(), "--force");

        assertEquals(1, refused.exitCode(), refused::toString);
        assertTrue(
                refused.err().contains(conf + " already exists; not overwriting it (use --force)"), refused::toString);
        assertEquals("keep me\n", afterRefusal);
        assertEquals(0, forced.exitCode(), forced::toString);
        assertTrue(Files.readString(conf).contains("start-command = \"airflow scheduler\""));
    }

    @Test
    void outputMustNotBeTheAirflowCfgItself() throws Exception {
        Path cfg = Files.copy(fixture("init-template.cfg"), dir.resolve("airflow.cfg"));

        CliRun run = CliRun.of("import-airflow-cfg", cfg.toString(), "--output", cfg.toString(), "--force");

        assertEquals(2, run.exitCode(), run::toString);
        assertEquals(Files.readString(fixture("init-template.cfg")), Files.readString(cfg));
    }

    @Test
    void aMissingFileIsBadInput() {
        Path absent = dir.resolve("absent/airflow.cfg");

        CliRun run = CliRun.of("import-airflow-cfg", absent.toString());

        assertEquals(78, run.exitCode(), run::toString);
        assertEquals("asfc-agent: " + absent + ": no such file\n", run.err());
        assertEquals("", run.out());
    }

    @Test
    void aFileWithoutTheFailoverSectionIsBadInput() throws IOException {
        Path cfg = Files.writeString(dir.resolve("airflow.cfg"), "[core]\nexecutor = LocalExecutor\n");

        CliRun run = CliRun.of("import-airflow-cfg", cfg.toString());

        assertEquals(78, run.exitCode(), run::toString);
        assertTrue(run.err().contains(cfg + ": no [scheduler_failover] section, so nothing to import"), run::toString);
        assertEquals("", run.out());
    }

    @Test
    void aFileThatIsNotIniIsBadInputAndNoLineOfItIsShown() throws IOException {
        Path cfg = Files.writeString(
                dir.resolve("airflow.cfg"), "[scheduler_failover]\npoll_frequency = 10\nthe-secret-is-swordfish\n");

        CliRun run = CliRun.of("import-airflow-cfg", cfg.toString());

        assertEquals(78, run.exitCode(), run::toString);
        assertTrue(run.err().contains("line 3: neither a [section] header"), run::toString);
        assertFalse(run.err().contains("swordfish"), run::toString);
    }

    @Test
    void aNodeIdThatIsNotANodeIsAUsageError() throws Exception {
        CliRun run = CliRun.of("import-airflow-cfg", fixture("customised.cfg").toString(), "--node-id", "sched-z");

        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.err().contains("--node-id sched-z is not one of scheduler_nodes_in_cluster"), run::toString);
    }

    @Test
    void helpDescribesTheCommand() {
        CliRun run = CliRun.of("import-airflow-cfg", "--help");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("Usage: asfc-agent import-airflow-cfg"), run::toString);
        assertTrue(run.out().contains("--output"), run::toString);
        assertTrue(run.out().contains("--force"), run::toString);
        assertTrue(run.out().contains("--node-id"), run::toString);
    }

    private String imported(String fixture, String... options) throws URISyntaxException {
        String[] args = new String[options.length + 2];
        args[0] = "import-airflow-cfg";
        args[1] = fixture(fixture).toString();
        System.arraycopy(options, 0, args, 2, options.length);
        CliRun run = CliRun.of(args);
        assertEquals(0, run.exitCode(), run::toString);
        return unwrapped(run.out());
    }

    /** The output with every wrapped comment joined back into one line, so phrases can be searched. */
    private static String unwrapped(String conf) {
        return conf.replaceAll("\n *# {3}", " ");
    }

    /** The same loader check-config uses; any problem fails the test with the loader's message. */
    private AsfcSettings load(Path conf, Supplier<String> hostname) throws IOException {
        String text = Files.readString(conf);
        if (text.contains("${?ASFC_SMTP_PASSWORD}")) {
            // as the user is told to: the SMTP password comes from the environment
            conf = Files.writeString(
                    dir.resolve("with-password-" + conf.getFileName()),
                    text + "\nasfc.alerts.email.smtp.password = \"set-in-the-environment\"\n");
        }
        try {
            return new SettingsLoader(dir, hostname).load(conf);
        } catch (InvalidConfigException e) {
            throw new AssertionError(e.getMessage() + "\n--- " + conf + ":\n" + Files.readString(conf), e);
        }
    }

    private static String setting(String conf, String key) {
        return conf.lines()
                .map(String::strip)
                .filter(l -> l.startsWith(key + " = "))
                .findFirst()
                .orElseThrow();
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(ImportAirflowCfgCommandTest.class
                .getResource("/airflow-cfg/" + name)
                .toURI());
    }
}
