package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zookeeper.auth.scheme = sasl} against a standalone ZooKeeper that authenticates clients with
 * SASL DIGEST-MD5 (users in its JAAS {@code Server} section; no KDC). The agent logs in with the
 * section its config names, and {@code acl = creator} gives that SASL identity alone the right to
 * write asfc's znodes.
 */
class SaslIT {
    private static final String ROOT = "/airflow/failover/default";
    private static final String AGENT_PASSWORD = "agent-Sasl-pw1";
    private static final String INTRUDER_PASSWORD = "intruder-Sasl-pw2";
    private static final String WRONG_PASSWORD = "wrong-Sasl-pw3";

    private static final String SERVER_JAAS =
            """
            Server {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              user_asfc="%s"
              user_intruder="%s";
            };
            """
                    .formatted(AGENT_PASSWORD, INTRUDER_PASSWORD);

    private static final String CLIENT_JAAS =
            """
            AsfcAgent {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              username="asfc"
              password="%s";
            };
            Intruder {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              username="intruder"
              password="%s";
            };
            WrongPassword {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              username="asfc"
              password="%s";
            };
            """
                    .formatted(AGENT_PASSWORD, INTRUDER_PASSWORD, WRONG_PASSWORD);

    private static final String SASL_PROVIDER =
            "-Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

    @TempDir
    Path dir;

    private OneAgent cluster;
    private Path clientJaas;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void creatorAclLetsOnlyTheAgentsSaslIdentityWrite() throws Exception {
        prepare(List.of());
        LocalAgent agent = cluster.start(agentConfig("AsfcAgent"));
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        zkCli(List.of(), "get", ROOT + "/scheduler").stdout().contains("\"node\":\"a\""));

        CommandResult acl = zkCli(List.of(), "getAcl", ROOT + "/scheduler");
        CommandResult anonymousSet = zkCli(List.of(), "set", ROOT + "/scheduler", "{\"node\":\"zz\"}");
        CommandResult anonymousGet = zkCli(List.of(), "get", ROOT + "/scheduler");
        CommandResult intruderSet = zkCli(as("Intruder"), "set", ROOT + "/scheduler", "{\"node\":\"zz\"}");
        CommandResult intruderDelete = zkCli(as("Intruder"), "delete", ROOT + "/epoch");
        CommandResult intruderGet = zkCli(as("Intruder"), "get", ROOT + "/scheduler");

        assertTrue(said(acl).contains("'sasl,'asfc\n: cdrwa"), acl::describe);
        assertTrue(said(acl).contains("'world,'anyone\n: r"), acl::describe);
        assertTrue(said(anonymousSet).contains("Insufficient permission"), anonymousSet::describe);
        assertTrue(said(anonymousGet).contains("\"node\":\"a\""), anonymousGet::describe);
        assertTrue(said(intruderSet).contains("Insufficient permission"), intruderSet::describe);
        assertTrue(said(intruderDelete).contains("Insufficient permission"), intruderDelete::describe);
        assertTrue(said(intruderGet).contains("\"node\":\"a\""), intruderGet::describe);
        assertNoPasswordIn(agent);
    }

    @Test
    void aServerThatEnforcesSaslServesTheAgentAndRefusesAnonymousClients() throws Exception {
        prepare(List.of("-Dzookeeper.enforce.auth.enabled=true", "-Dzookeeper.enforce.auth.schemes=sasl"));
        LocalAgent agent = cluster.start(agentConfig("AsfcAgent"));
        await().atMost(Duration.ofSeconds(30)).until(() -> zkCli(as("Intruder"), "get", ROOT + "/scheduler")
                .stdout()
                .contains("\"node\":\"a\""));

        CommandResult metadata = agent.cli("metadata");
        CommandResult anonymousGet = zkCli(List.of(), "get", ROOT + "/scheduler");

        assertEquals(0, metadata.exitCode(), metadata::describe);
        assertFalse(said(anonymousGet).contains("\"node\":\"a\""), anonymousGet::describe);
        assertNoPasswordIn(agent);
    }

    @Test
    void aWrongPasswordIsReportedAsRejectedAuthenticationWithoutThePassword() throws Exception {
        prepare(List.of("-Dzookeeper.enforce.auth.enabled=true", "-Dzookeeper.enforce.auth.schemes=sasl"));
        LocalAgent agent = cluster.create(agentConfig("WrongPassword"));

        CommandResult metadata = agent.cli("metadata");

        assertEquals(69, metadata.exitCode(), metadata::describe);
        assertTrue(metadata.stderr().contains("SASL"), metadata::describe);
        assertTrue(metadata.stderr().contains("WrongPassword"), metadata::describe);
        assertFalse(said(metadata).contains(WRONG_PASSWORD), metadata::describe);
        assertFalse(said(metadata).contains(AGENT_PASSWORD), metadata::describe);
    }

    @Test
    void theAgentKeepsTryingAfterARejectedLoginSayingWhyWithoutSpinning() throws Exception {
        prepare(List.of("-Dzookeeper.enforce.auth.enabled=true", "-Dzookeeper.enforce.auth.schemes=sasl"));
        LocalAgent agent = cluster.create(agentConfig("WrongPassword"));

        CommandResult start = agent.run(Map.of("ASFC_START_TIMEOUT", "8"), Duration.ofSeconds(120), "start");

        assertEquals(69, start.exitCode(), start::describe);
        long rejections = Files.readAllLines(agent.logDir().resolve("asfc-agent.log")).stream()
                .filter(line -> line.contains("rejected the SASL authentication with JAAS section 'WrongPassword'"))
                .count();
        // one try per connection-timeout (3s) over 8s; a client that spun on the rejection logs thousands
        assertTrue(rejections >= 2 && rejections < 50, rejections + " rejections logged\n" + agent.logTails());
        assertFalse(said(start).contains(WRONG_PASSWORD), start::describe);
        assertNoPasswordIn(agent);
    }

    @Test
    void aMissingJaasSectionIsAConfigurationError() throws Exception {
        prepare(List.of());
        LocalAgent agent = cluster.create(agentConfig("NoSuchSection"));

        CommandResult check = agent.cli("check-config");

        assertEquals(78, check.exitCode(), check::describe);
        assertTrue(said(check).contains("NoSuchSection"), check::describe);
        assertFalse(said(check).contains(AGENT_PASSWORD), check::describe);
    }

    private void prepare(List<String> serverOptions) throws IOException, InterruptedException {
        Path serverJaas = dir.resolve("zookeeper-jaas.conf");
        Files.writeString(serverJaas, SERVER_JAAS, StandardCharsets.UTF_8);
        clientJaas = dir.resolve("client-jaas.conf");
        Files.writeString(clientJaas, CLIENT_JAAS, StandardCharsets.UTF_8);
        List<String> options =
                new java.util.ArrayList<>(List.of("-Djava.security.auth.login.config=" + serverJaas, SASL_PROVIDER));
        options.addAll(serverOptions);
        cluster = OneAgent.prepare(dir, options);
    }

    private String agentConfig(String section) {
        return """
                asfc.zookeeper {
                  auth { scheme = sasl, jaas-file = "%s", jaas-section = %s }
                  acl = creator
                }
                """
                .formatted(clientJaas, section);
    }

    /**
     * zkCli's JVM options to log in with {@code section} of the client JAAS file; with FIPS mode off,
     * which ZooKeeper 3.9 turns on by default and in which its client refuses DIGEST-MD5.
     */
    private List<String> as(String section) {
        return List.of(
                "-Djava.security.auth.login.config=" + clientJaas,
                "-Dzookeeper.sasl.clientconfig=" + section,
                "-Dzookeeper.fips-mode=false");
    }

    private void assertNoPasswordIn(LocalAgent agent) throws IOException {
        for (String password : List.of(AGENT_PASSWORD, INTRUDER_PASSWORD, WRONG_PASSWORD)) {
            assertFalse(agent.logContains(password), "a password reached the agent's log");
        }
    }

    /** zkCli prints data on stdout and errors on stderr. */
    private static String said(CommandResult r) {
        return r.stdout() + r.stderr();
    }

    private CommandResult zkCli(List<String> jvmOptions, String... command) throws Exception {
        return cluster.dist().zkCli(cluster.connectString(), dir, jvmOptions, command);
    }
}
