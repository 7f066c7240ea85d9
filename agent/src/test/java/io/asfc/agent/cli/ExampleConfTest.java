package io.asfc.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.InvalidConfigException;
import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.SettingsLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code conf/examples/three-hosts.conf}, which docs/AIRFLOW.md walks through, loads on each of its
 * three hosts through the real settings loader and passes {@code check-config}: an unknown key, a
 * bad value or a missing one would fail here before a user copies it.
 */
class ExampleConfTest {
    static final Path EXAMPLE = Path.of(System.getProperty("user.dir"))
            .resolve("../conf/examples/three-hosts.conf")
            .normalize();

    /** What the example tells the user to put in the environment (conf/asfc-env.sh). */
    private static final String SECRETS_FROM_THE_ENVIRONMENT =
            """

            asfc.zookeeper.auth.password = "zk-secret-from-ASFC_ZK_PASSWORD"
            asfc.alerts.email.smtp.password = "smtp-secret-from-ASFC_SMTP_PASSWORD"
            """;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"sched-a", "sched-b", "sched-c"})
    void theThreeHostsExampleLoadsAndPassesCheckConfigOnEachHost(String node) throws IOException {
        Path conf = onHost(node);

        AsfcSettings s = load(conf);
        CliRun check = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(0, check.exitCode(), check::toString);
        assertTrue(check.out().startsWith("configuration OK: " + conf), check::toString);
        assertFalse(check.out().contains("secret-from"), "secrets are masked: " + check);
        assertEquals(node, s.nodeId());
        assertEquals(List.of("sched-a", "sched-b", "sched-c"), s.nodes());
        assertEquals("prod", s.cluster());
        assertFalse(s.zookeeper().isEmbedded(), "an external ensemble");
        assertEquals(3, s.zookeeper().connect().split(",").length);
        assertEquals(AclMode.CREATOR, s.zookeeper().acl());
        assertTrue(s.zookeeper().hasAuth());
        assertEquals(SchedulerMode.CHILD, s.scheduler().mode());
        assertEquals("airflow", s.ssh().user());
        assertTrue(s.alerts().email().enabled());
        assertTrue(s.http().enabled());
        assertEquals(Duration.ofSeconds(30), s.controller().pollInterval());
    }

    @Test
    void theAirflowGuidePointsAtTheExample() throws IOException {
        String guide =
                Files.readString(EXAMPLE.resolve("../../../docs/AIRFLOW.md").normalize());
        assertTrue(guide.contains("conf/examples/three-hosts.conf"), "docs/AIRFLOW.md points at the example");
    }

    /** The example as copied to {@code node}: only node.id changes, and the secrets come from the environment. */
    private Path onHost(String node) throws IOException {
        String text = Files.readString(EXAMPLE);
        assertTrue(text.contains("node.id = sched-a"), "the example names its node.id");
        return Files.writeString(
                dir.resolve("asfc-" + node + ".conf"),
                text.replace("node.id = sched-a", "node.id = " + node) + SECRETS_FROM_THE_ENVIRONMENT);
    }

    private AsfcSettings load(Path conf) throws IOException {
        try {
            return new SettingsLoader(dir, () -> "not-a-cluster-node").load(conf);
        } catch (InvalidConfigException e) {
            throw new AssertionError(e.getMessage() + "\n--- " + conf + ":\n" + Files.readString(conf), e);
        }
    }
}
