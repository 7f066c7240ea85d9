package io.asfc.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.read.ListAppender;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.KeyPair;
import io.asfc.agent.cli.AsfcCli;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.TestPki;
import io.asfc.agent.testing.TlsZooKeeper;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.SettingsLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * No secret reaches a log, a command's output or a settings record's {@code toString()}. An agent
 * starts over TLS with every secret set (in the config and in files), elects itself, assigns the
 * scheduler and stops, with every logger at TRACE; then {@code check-config}, {@code metadata} and
 * {@code send-test-email} (to an SMTP port that refuses) run on the same config. All of that is searched for the clear text of each secret.
 */
class SecretsNeverLoggedTest {
    private static final List<String> LOGGERS =
            List.of(Logger.ROOT_LOGGER_NAME, "org.apache.zookeeper", "org.apache.curator", "io.asfc", "io.netty");

    @TempDir
    Path dir;

    private final Map<String, String> secrets = new LinkedHashMap<>();
    private final Map<String, Level> levels = new LinkedHashMap<>();
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    /** The console and the other appenders of the test config: TRACE would flood them. */
    private final List<Appender<ILoggingEvent>> quieted = new ArrayList<>();

    private TestPki pki;
    private TlsZooKeeper zk;
    private TestAgents agents;

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.create(Files.createDirectory(dir.resolve("pki")));
        zk = TlsZooKeeper.start(pki, dir.resolve("zk"));
        agents = new TestAgents(dir, zk.plainConnect());
        secrets.put("zookeeper.auth.password", "zk-auth-" + UUID.randomUUID());
        secrets.put("ssh.passphrase", "ssh-passphrase-" + UUID.randomUUID());
        secrets.put("alerts.email.smtp.password", "smtp-" + UUID.randomUUID());
        secrets.put("zookeeper.client.*store.password", pki.password());
        secrets.put("hooks.webhook.url (its path)", "webhook-path-" + UUID.randomUUID());
        secrets.put("hooks.webhook.headers", "webhook-token-" + UUID.randomUUID());
    }

    @AfterEach
    void stop() throws Exception {
        stopCapture();
        if (agents != null) {
            agents.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    void noSecretIsLoggedPrintedOrRendered() throws Exception {
        Path config = config();
        StringBuilder everything = new StringBuilder();
        startCapture();

        agents.start("a", zk.tlsConnect(), Files.readString(config));
        await().atMost(Duration.ofSeconds(15))
                .until(() -> agents.soleActive().equals(Optional.of("a"))
                        && agents.assignment().isPresent());
        agents.stop("a");
        String checkConfig = cli(config, "check-config");
        String metadata = cli(config, "metadata");
        String testEmail = cli(config, "send-test-email");
        AsfcSettings settings = new SettingsLoader(dir, () -> "a").load(config);
        stopCapture();

        String logs = rendered();
        everything
                .append(logs)
                .append(checkConfig)
                .append(metadata)
                .append(testEmail)
                .append(settings)
                .append(settings.zookeeper())
                .append(settings.zookeeper().client())
                .append(settings.ssh())
                .append(settings.alerts().email().smtp())
                .append(settings.hooks())
                .append(settings.hooks().webhook());
        assertTrue(logs.contains("asfc agent started: node a"), "the capture saw the start");
        assertTrue(logs.contains("connected to ZooKeeper at " + zk.tlsConnect() + " over TLS"), logs);
        assertTrue(logs.contains("password file " + dir.resolve("zk.password")), "the permission warning");
        assertTrue(logs.contains("not reached for event"), "the webhook was tried (nothing listens on its port)");
        assertTrue(checkConfig.startsWith("exit 0"), checkConfig);
        assertTrue(checkConfig.contains("password file " + dir.resolve("zk.password")), checkConfig);
        assertTrue(metadata.startsWith("exit 0"), metadata);
        assertTrue(testEmail.startsWith("exit 1"), "nothing listens on the SMTP port: " + testEmail);
        Map<String, String> leaked = secrets.entrySet().stream()
                .filter(e -> everything.indexOf(e.getValue()) >= 0)
                .collect(Collectors.toMap(Map.Entry::getKey, e -> around(everything, e.getValue())));
        assertEquals(Map.of(), leaked, "secrets in the output, with their context");
    }

    /** Every secret set: the ZooKeeper password and the truststore's in files, the others in the config. */
    private Path config() throws Exception {
        Path zkPassword = Files.writeString(dir.resolve("zk.password"), secrets.get("zookeeper.auth.password") + "\n");
        Files.setPosixFilePermissions(zkPassword, PosixFilePermissions.fromString("rw-r--r--"));
        Path trustPassword = Files.writeString(dir.resolve("trust.password"), pki.password());
        Path key = dir.resolve("id_ecdsa");
        KeyPair pair = KeyPair.genKeyPair(new JSch(), KeyPair.ECDSA, 256);
        pair.writePrivateKey(key.toString(), secrets.get("ssh.passphrase").getBytes(StandardCharsets.UTF_8));
        Files.createFile(dir.resolve("known_hosts"));
        Path config = dir.resolve("secrets.conf");
        Files.writeString(
                config,
                """
                asfc {
                  node.id = a
                  nodes = [a]
                  zookeeper {
                    connect = "%s"
                    connection-timeout = 2s
                    acl = creator
                    auth { user = asfc, password-file = "%s" }
                    client {
                      secure = true
                      truststore { location = "%s", password-file = "%s" }
                      keystore { location = "%s", password = "%s" }
                    }
                  }
                  ssh { enabled = true, identity-files = ["%s"], passphrase = "%s", known-hosts = "%s" }
                  alerts.email {
                    enabled = true, to = ["ops@example.com"], from = "asfc@example.com"
                    timeout = 2s
                    smtp { host = "127.0.0.1", port = %d, user = mailer, password = "%s" }
                  }
                  hooks.webhook {
                    url = "http://127.0.0.1:%d/services/%s"
                    headers { Authorization = "Bearer %s" }
                    max-attempts = 2, retry-backoff = 100ms
                  }
                }
                """
                        .formatted(
                                zk.tlsConnect(),
                                zkPassword,
                                pki.truststore(),
                                trustPassword,
                                pki.clientKeystore(),
                                pki.password(),
                                key,
                                secrets.get("ssh.passphrase"),
                                dir.resolve("known_hosts"),
                                closedPort(),
                                secrets.get("alerts.email.smtp.password"),
                                closedPort(),
                                secrets.get("hooks.webhook.url (its path)"),
                                secrets.get("hooks.webhook.headers")));
        return config;
    }

    /** A loopback port nothing listens on: the SMTP server of this test refuses every connection. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String cli(Path config, String command) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AsfcCli.execute(
                new PrintWriter(out, true), new PrintWriter(err, true), "--conf", config.toString(), command);
        return "exit " + code + "\n" + out + err;
    }

    private void startCapture() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        captured.setContext(context);
        captured.start();
        for (String name : LOGGERS) {
            Logger logger = context.getLogger(name);
            levels.put(name, logger.getLevel());
            logger.setLevel(Level.TRACE);
        }
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.iteratorForAppenders().forEachRemaining(quieted::add);
        quieted.forEach(root::detachAppender);
        root.addAppender(captured);
    }

    private void stopCapture() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAppender(captured);
        quieted.forEach(root::addAppender);
        quieted.clear();
        levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
        levels.clear();
    }

    /** Each event as everything it carries: message, arguments, MDC and stack trace. */
    private String rendered() {
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent e : List.copyOf(captured.list)) {
            StringBuilder line = new StringBuilder()
                    .append(e.getLevel())
                    .append(' ')
                    .append(e.getLoggerName())
                    .append(" - ")
                    .append(e.getFormattedMessage())
                    .append(' ')
                    .append(e.getMDCPropertyMap());
            if (e.getArgumentArray() != null) {
                for (Object argument : e.getArgumentArray()) {
                    line.append(" | ").append(argument);
                }
            }
            if (e.getThrowableProxy() != null) {
                line.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            }
            lines.add(line.toString());
        }
        return String.join("\n", lines);
    }

    private static String around(CharSequence text, String secret) {
        int at = text.toString().indexOf(secret);
        return text.subSequence(Math.max(0, at - 300), Math.min(text.length(), at + secret.length() + 100))
                .toString();
    }
}
