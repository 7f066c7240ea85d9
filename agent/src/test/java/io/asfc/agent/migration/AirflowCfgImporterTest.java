package io.asfc.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.InvalidConfigException;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.Modes.SmtpTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shapes of [scheduler_failover] beyond the two fixtures; every result must load without a problem. */
class AirflowCfgImporterTest {
    private static final String HOST = "sched-a";

    @TempDir
    Path dir;

    @Test
    void initRunWithVenvBecomesChildModeWithTheVirtualenv() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = export AIRFLOW_HOME=/srv/af;source /srv/venv/bin/activate;\
                nohup airflow scheduler >> ~/airflow/logs/scheduler.logs &
                """);
        AsfcSettings s = load(conf);

        assertEquals(SchedulerMode.CHILD, s.scheduler().mode());
        assertEquals("airflow scheduler", s.scheduler().startCommand());
        assertEquals(Optional.of(Path.of("/srv/venv")), s.scheduler().virtualenv());
        assertEquals(Map.of("AIRFLOW_HOME", "/srv/af"), s.scheduler().environment());
        assertFalse(conf.contains("\"airflow\" must be on the agent's PATH"), conf);
    }

    @Test
    void systemdCommandsStayCommandsWithTheirCaveats() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = sudo systemctl restart airflow-scheduler
                airflow_scheduler_stop_command = sudo systemctl stop airflow-scheduler
                """);
        AsfcSettings s = load(conf);

        assertEquals(SchedulerMode.COMMAND, s.scheduler().mode());
        assertEquals("sudo systemctl restart airflow-scheduler", s.scheduler().startCommand());
        assertEquals(
                Optional.of("sudo systemctl stop airflow-scheduler"),
                s.scheduler().stopCommand());
        assertTrue(conf.contains("Restart=no"), conf);
        assertTrue(conf.contains("(NOPASSWD)"), conf);
        assertFalse(conf.contains("Fixed:"), conf);
    }

    @Test
    void aKillLoopIsDroppedInCommandModeToo() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = nohup airflow scheduler -D &
                airflow_scheduler_stop_command = pkill -9 -f "airflow scheduler"
                """);
        AsfcSettings s = load(conf);

        assertEquals(SchedulerMode.COMMAND, s.scheduler().mode());
        assertEquals(Optional.empty(), s.scheduler().stopCommand());
        assertTrue(conf.contains("Not used: it kills by pattern with SIGKILL"), conf);
    }

    @Test
    void aCustomStopCommandIsNotUsedInChildMode() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = airflow scheduler
                airflow_scheduler_stop_command = /opt/bin/stop-it.sh
                """);
        AsfcSettings s = load(conf);

        assertEquals(SchedulerMode.CHILD, s.scheduler().mode());
        assertEquals(Optional.empty(), s.scheduler().stopCommand());
        assertTrue(conf.contains("a stop-command applies only in command mode"), conf);
    }

    @Test
    void aStopCommandReadsBackslashSemicolonAsThePythonToolDid() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = sudo systemctl start airflow-scheduler
                airflow_scheduler_stop_command = /opt/bin/a.sh \\; /opt/bin/b.sh
                """);

        assertEquals(
                Optional.of("/opt/bin/a.sh ; /opt/bin/b.sh"),
                load(conf).scheduler().stopCommand());
    }

    @Test
    void aPercentInTheStartCommandIsKeptRawAndSaidSo() throws IOException {
        String conf = convert(
                """
                airflow_scheduler_start_command = /opt/bin/start.sh --day $(date +%%F)
                """);

        assertEquals(
                "/opt/bin/start.sh --day $(date +%%F)", load(conf).scheduler().startCommand());
        assertTrue(conf.contains("\"%%\" is kept as it is"), conf);
    }

    @Test
    void aMinimalSectionGetsAsfcDefaultsAndAPlaceholderZooKeeper() throws IOException {
        String conf = convert("");
        AsfcSettings s = load(conf);

        assertEquals(List.of(), s.nodes());
        assertEquals("localhost:2181", s.zookeeper().connect());
        assertTrue(conf.contains("SET THIS: metadata_service_zookeeper_nodes is not set"), conf);
        assertEquals(SchedulerMode.CHILD, s.scheduler().mode());
        assertEquals("airflow scheduler", s.scheduler().startCommand());
        assertFalse(s.alerts().email().enabled());
        assertEquals(Optional.empty(), s.scheduler().health().url());
        assertFalse(conf.contains("# NOT MAPPED:"), conf);
    }

    @Test
    void unusableValuesGetNotMappedNotesAndAsfcDefaults() throws IOException {
        String conf = convert(
                """
                poll_frequency = 10s
                retry_count_before_alerting = 0
                [webserver]
                base_url = localhost:8080
                """);
        AsfcSettings s = load(conf);

        assertEquals(Duration.ofSeconds(30), s.controller().pollInterval());
        assertEquals(5, s.alerts().retryCountBeforeAlerting());
        assertEquals(Optional.empty(), s.scheduler().health().url());
        assertTrue(conf.contains("# NOT MAPPED: poll_frequency = 10s — "), conf);
        assertTrue(conf.contains("# NOT MAPPED: retry_count_before_alerting = 0 — "), conf);
        assertTrue(conf.contains("# NOT MAPPED: [webserver] base_url = localhost:8080 — "), conf);
    }

    @Test
    void smtpSslAndAnotherEmailBackend() throws IOException {
        String conf = convert(
                """
                alert_to_email = ops@example.com; dev@example.com
                [smtp]
                smtp_ssl = true
                smtp_port = 465
                smtp_password_cmd = cat /etc/airflow/smtp-pass
                [email]
                email_backend = airflow.providers.sendgrid.utils.emailer.send_email
                """);
        AsfcSettings s = load(conf);

        assertEquals(SmtpTransport.SMTPS, s.alerts().email().smtp().transport());
        assertEquals(465, s.alerts().email().smtp().port());
        assertEquals(
                List.of("ops@example.com", "dev@example.com"),
                s.alerts().email().to());
        assertTrue(conf.contains("smtp_ssl wins"), conf);
        assertTrue(conf.contains("# NOT MAPPED: [smtp] smtp_password_cmd = ****** "), conf);
        assertTrue(conf.contains("# NOT MAPPED: [email] email_backend = airflow.providers.sendgrid"), conf);
    }

    @Test
    void addressesAsNodesAreNamedAsTheyAre() throws IOException {
        String conf = convert("scheduler_nodes_in_cluster = 10.0.0.141,10.0.0.142\n");

        assertEquals(
                List.of("10.0.0.141", "10.0.0.142"), load(conf, "10.0.0.142").nodes());
        assertTrue(conf.contains("These are addresses"), conf);
    }

    @Test
    void aNodeNameThatCannotBeANodeIdIsBadInput() {
        AirflowCfgException e = assertThrows(
                AirflowCfgException.class,
                () -> convert("""
                scheduler_nodes_in_cluster = a,b c
                """));

        assertTrue(e.getMessage().contains("\"b c\" cannot be an asfc node id"), e::getMessage);
    }

    @Test
    void anInvalidNodeIdIsRefused() {
        AirflowCfg cfg = AirflowCfg.parse("[scheduler_failover]\n", "airflow.cfg");

        assertThrows(
                AirflowCfgImporter.UnknownNodeId.class,
                () -> AirflowCfgImporter.convert(cfg, HOST, Optional.of("no/slash")));
    }

    private String convert(String failoverSection) {
        AirflowCfg cfg = AirflowCfg.parse("[scheduler_failover]\n" + failoverSection, "airflow.cfg");
        return AirflowCfgImporter.convert(cfg, HOST, Optional.empty()).conf().replaceAll("\\n *# {3}", " ");
    }

    private AsfcSettings load(String conf) throws IOException {
        return load(conf, HOST);
    }

    private AsfcSettings load(String conf, String hostname) throws IOException {
        Path file = Files.writeString(Files.createTempFile(dir, "asfc", ".conf"), conf);
        try {
            return new io.asfc.common.config.SettingsLoader(dir, () -> hostname).load(file);
        } catch (InvalidConfigException e) {
            throw new AssertionError(e.getMessage() + "\n" + conf, e);
        }
    }
}
