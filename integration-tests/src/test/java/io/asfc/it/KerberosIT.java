package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zookeeper.auth.scheme = sasl} with Kerberos, as docs/CONFIGURATION.md's "Kerberos" steps set
 * it up: a real MIT KDC (krb5kdc of Debian's krb5-kdc, a throwaway realm in a temporary directory),
 * a standalone ZooKeeper server that logs in as zookeeper/localhost with its keytab, and agents of
 * the built distribution ({@code bin/asfc-agent}) that log in as asfc@ASFC.TEST with theirs, with
 * krb5.conf given in ASFC_JVM_OPTS of conf/asfc-env.sh. Skipped only when krb5kdc is not installed
 * (.ci/run installs it).
 */
class KerberosIT {
    private static final String REALM = "ASFC.TEST";
    private static final String AGENT_PRINCIPAL = "asfc@" + REALM;
    private static final String ROOT = "/airflow/failover/default";
    private static final Duration SESSION = Duration.ofSeconds(4);
    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final String SASL_PROVIDER =
            "-Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

    @TempDir
    static Path shared;

    private static Kdc kdc;
    private static Distribution dist;
    private static StandaloneZooKeeper zooKeeper;
    private static String connect;
    private static Path jaas;

    @TempDir
    Path dir;

    private final List<LocalAgent> agents = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        if (!Kdc.installed()) {
            return; // each test says why it is skipped
        }
        try {
            kdc = Kdc.start(shared.resolve("kdc"), REALM);
            Path keytabs = Files.createDirectories(shared.resolve("keytabs"));
            Path serverKeytab = kdc.addPrincipal("zookeeper/localhost@" + REALM, keytabs.resolve("zookeeper.keytab"));
            Path agentKeytab = kdc.addPrincipal(AGENT_PRINCIPAL, keytabs.resolve("asfc.keytab"));
            Path intruderKeytab = kdc.addPrincipal("intruder@" + REALM, keytabs.resolve("intruder.keytab"));
            // ktadd gives the principal a new key: the first keytab is outdated by the second export
            Path staleKeytab = kdc.addPrincipal("stale@" + REALM, keytabs.resolve("stale.keytab"));
            kdc.exportKeytab("stale@" + REALM, keytabs.resolve("stale-new.keytab"));
            Path goneKeytab = kdc.addPrincipal("gone@" + REALM, keytabs.resolve("gone.keytab"));
            kdc.deletePrincipal("gone@" + REALM);

            dist = Distribution.unpack(shared);
            Path serverJaas = shared.resolve("zookeeper-jaas.conf");
            Files.writeString(serverJaas, section("Server", serverKeytab, "zookeeper/localhost@" + REALM));
            zooKeeper = StandaloneZooKeeper.start(
                    dist,
                    Files.createDirectories(shared.resolve("zookeeper")),
                    List.of(
                            "-Djava.security.krb5.conf=" + kdc.krb5Conf(),
                            "-Djava.security.auth.login.config=" + serverJaas,
                            SASL_PROVIDER));
            // the servers' host name, as their principal names it (not 127.0.0.1)
            connect = "localhost:" + zooKeeper.port();

            jaas = shared.resolve("jaas.conf");
            Files.writeString(
                    jaas,
                    section("Client", agentKeytab, AGENT_PRINCIPAL)
                            + section("Intruder", intruderKeytab, "intruder@" + REALM)
                            + section("StaleKeytab", staleKeytab, "stale@" + REALM)
                            + section("UnknownPrincipal", goneKeytab, "gone@" + REALM)
                            + section("OtherPrincipalsKeytab", intruderKeytab, AGENT_PRINCIPAL),
                    StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(jaas, PosixFilePermissions.fromString("rw-------"));
        } catch (Exception | Error e) {
            tearDown();
            throw e;
        }
    }

    @AfterAll
    static void tearDown() {
        if (zooKeeper != null) {
            zooKeeper.close();
            zooKeeper = null;
        }
        if (kdc != null) {
            kdc.close();
            kdc = null;
        }
    }

    @BeforeEach
    void requireKdc() {
        assumeTrue(
                Kdc.installed(),
                "skipped: no " + Kdc.KRB5KDC
                        + " (Debian packages krb5-kdc krb5-admin-server krb5-user; .ci/run installs them)");
    }

    @AfterEach
    void stopAgents() {
        List<String> problems = new ArrayList<>();
        agents.forEach(agent -> agent.stopForCleanup(problems));
        assertTrue(problems.isEmpty(), problems::toString);
    }

    @Test
    void theAgentLogsInWithItsKeytabAndOnlyItsPrincipalMayWriteItsZnodes() throws Exception {
        LocalAgent agent = agent("a", "Client");

        CommandResult check = agent.cli("check-config");
        assertEquals(0, check.exitCode(), check::describe);
        CommandResult start = agent.start();
        assertEquals(0, start.exitCode(), start::describe);
        try (ZooKeeper anonymous = anonymousClient()) {
            await().atMost(DEADLINE)
                    .until(() -> new String(anonymous.getData(ROOT + "/scheduler", false, null), StandardCharsets.UTF_8)
                            .contains("\"node\":\"a\""));
            CommandResult metadata = agent.cli("metadata");
            CommandResult doctor = agent.cli("doctor");

            assertEquals(0, metadata.exitCode(), metadata::describe);
            assertTrue(metadata.stdout().contains("ACTIVE"), metadata::describe);
            assertEquals(0, doctor.exitCode(), doctor::describe);
            List<ACL> expected = List.of(
                    new ACL(ZooDefs.Perms.ALL, new Id("sasl", AGENT_PRINCIPAL)),
                    new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
            for (String path : tree(anonymous, "/airflow")) {
                assertEquals(expected, anonymous.getACL(path, null), path + "'s ACL");
            }
            byte[] intrusion = "{\"node\":\"zz\"}".getBytes(StandardCharsets.UTF_8);
            assertThrows(
                    KeeperException.NoAuthException.class, () -> anonymous.setData(ROOT + "/scheduler", intrusion, -1));
            assertThrows(KeeperException.NoAuthException.class, () -> anonymous.delete(ROOT + "/epoch", -1));
            assertThrows(
                    KeeperException.NoAuthException.class,
                    () -> anonymous.create(
                            ROOT + "/intruder", intrusion, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        }
        CommandResult intruderSet = dist.zkCli(
                connect,
                dir,
                List.of(
                        "-Djava.security.krb5.conf=" + kdc.krb5Conf(),
                        "-Djava.security.auth.login.config=" + jaas,
                        "-Dzookeeper.sasl.clientconfig=Intruder"),
                "set",
                ROOT + "/scheduler",
                "{\"node\":\"zz\"}");
        assertTrue(
                (intruderSet.stdout() + intruderSet.stderr()).contains("Insufficient permission"),
                intruderSet::describe);
    }

    @Test
    void aLoginThatFailsBeforeReachingZooKeeperSaysWhy() throws Exception {
        Map<String, String> reasons = Map.of(
                "StaleKeytab", "Checksum failed|Pre-authentication information was invalid",
                "UnknownPrincipal", "Client not found in Kerberos database",
                "OtherPrincipalsKeytab", "the keytab holds no key of the principal");
        Map<String, CompletableFuture<CommandResult>> runs = new java.util.TreeMap<>();
        for (String section : reasons.keySet()) {
            LocalAgent agent = agent(section.toLowerCase(Locale.ROOT), section);
            // in parallel: each waits out the connection timeout before it gives up
            runs.put(section, CompletableFuture.supplyAsync(() -> {
                try {
                    return agent.cli("metadata");
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Map.Entry<String, CompletableFuture<CommandResult>> run : runs.entrySet()) {
            CommandResult metadata = run.getValue().get(2, TimeUnit.MINUTES);
            assertEquals(69, metadata.exitCode(), metadata::describe);
            assertTrue(
                    metadata.stderr().contains("SASL login with JAAS section '" + run.getKey() + "'")
                            && metadata.stderr().contains("failed before reaching ZooKeeper"),
                    metadata::describe);
            assertTrue(
                    Pattern.compile(reasons.get(run.getKey()))
                            .matcher(metadata.stderr())
                            .find(),
                    metadata::describe);
        }
    }

    @Test
    void anAgentWhoseSessionExpiredWhileTheKdcWasDownLogsInAgainWhenItIsBack() throws Exception {
        LocalAgent agent = agent("a", "Client");
        CommandResult start = agent.start();
        assertEquals(0, start.exitCode(), start::describe);
        long pid = agent.pid();
        try (ZooKeeper anonymous = anonymousClient()) {
            await().atMost(DEADLINE).until(() -> anonymous.exists(ROOT + "/agents/a", false) != null);
            kdc.stop();
            try {
                // the agent's session expires while it is frozen; its new session needs a new login
                signal("STOP", pid);
                long frozenAt = System.nanoTime();
                CommandResult metadata = agent.cli("metadata");
                long left = SESSION.plusSeconds(2).toNanos() - (System.nanoTime() - frozenAt);
                TimeUnit.NANOSECONDS.sleep(Math.max(0, left));
                signal("CONT", pid);

                assertEquals(69, metadata.exitCode(), metadata::describe);
                assertTrue(metadata.stderr().contains("no answer from the KDC"), metadata::describe);
                await().atMost(DEADLINE)
                        .until(() -> agent.logContains("renewing the ZooKeeper connection to log in again"));
                assertNull(anonymous.exists(ROOT + "/agents/a", false), "registered without a login");
            } finally {
                signal("CONT", pid);
                kdc.start();
            }
            await().atMost(DEADLINE)
                    .failFast("agent exited", () -> !Processes.isAlive(pid))
                    .until(() -> anonymous.exists(ROOT + "/agents/a", false) != null);
            assertEquals(
                    new Id("sasl", AGENT_PRINCIPAL),
                    anonymous.getACL(ROOT + "/agents/a", null).get(0).getId());
        } catch (AssertionError | ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n" + agent.logTails() + kdc.logTail(), e);
        }
    }

    /** Agent {@code node}, set up as docs/CONFIGURATION.md's Kerberos steps say, logging in with {@code section}. */
    private LocalAgent agent(String node, String section) throws IOException {
        Path home = Files.createDirectories(dir.resolve(node));
        LocalAgent agent = LocalAgent.create(
                dist,
                node,
                List.of(node),
                connect,
                SESSION,
                home,
                """
                asfc.zookeeper {
                  auth {
                    scheme = sasl
                    jaas-file = "%s"
                    jaas-section = %s
                    kerberos-service-name = zookeeper
                  }
                  acl = creator
                }
                # not this test's business, and a shared CI host may run others' stand-ins
                asfc.scheduler.foreign = alert
                """
                        .formatted(jaas, section));
        Files.writeString(
                home.resolve("conf/asfc-env.sh"),
                "ASFC_JVM_OPTS=\"-Djava.security.krb5.conf=" + kdc.krb5Conf() + "\"\n",
                StandardCharsets.UTF_8);
        agents.add(agent);
        return agent;
    }

    private static String section(String name, Path keytab, String principal) {
        return """
                %s {
                  com.sun.security.auth.module.Krb5LoginModule required
                  useKeyTab=true
                  keyTab="%s"
                  storeKey=true
                  useTicketCache=false
                  principal="%s";
                };
                """
                .formatted(name, keytab, principal);
    }

    /** A client of the test JVM without SASL (JAAS and Kerberos settings are JVM-wide; this one needs none). */
    private static ZooKeeper anonymousClient() throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        ZooKeeper client = new ZooKeeper(connect, 10_000, event -> {}, config);
        await().atMost(DEADLINE).until(() -> client.getState().isConnected());
        return client;
    }

    private static List<String> tree(ZooKeeper client, String path) throws Exception {
        List<String> paths = new ArrayList<>(List.of(path));
        for (String child : client.getChildren(path, false)) {
            paths.addAll(tree(client, path + "/" + child));
        }
        return paths;
    }

    private void signal(String signal, long pid) throws IOException, InterruptedException {
        Commands.run(List.of("kill", "-" + signal, Long.toString(pid)), dir, System.getenv(), Duration.ofSeconds(10));
    }
}
