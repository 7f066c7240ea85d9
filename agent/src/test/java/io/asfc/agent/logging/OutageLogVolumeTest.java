package io.asfc.agent.logging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import io.asfc.agent.testing.TestAgents;
import io.asfc.agent.testing.ZkProxy;
import io.asfc.common.zk.AgentRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Issue 19's log-volume target: through a 30 s ZooKeeper outage one agent, logging with the shipped
 * {@code conf/logback.xml}, writes at most 20 lines (stack-trace lines count), every one with its
 * node. The agent runs in process at the shipped timings that matter here (session 10 s, connection
 * timeout 5 s, heartbeat 5 s); its scheduler runs, self-fences, and runs again after the outage.
 */
class OutageLogVolumeTest {
    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final int MAX_LINES = 20;

    @TempDir
    Path dir;

    private final LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
    private TestingServer server;
    private ZkProxy proxy;
    private TestAgents agents;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        proxy = new ZkProxy(server.getPort());
        agents = new TestAgents(dir, server.getConnectString(), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        try {
            agents.close();
            proxy.close();
            server.close();
        } finally {
            logging.reset();
            new ContextInitializer(logging).autoConfig(); // back to logback-test.xml
        }
    }

    @Test
    void aThirtySecondOutageWritesAtMostTwentyLinesEachNamingTheNode() throws Exception {
        Path logFile = useShippedLogbackXml();
        agents.start(
                "a",
                proxy.connectString(),
                """
                asfc.nodes = [a]
                asfc.zookeeper { connection-timeout = 5s, self-fence-after = 3s }
                asfc.controller.heartbeat-interval = 5s
                # what this test counts is the agent's own lines: no foreign-scheduler report about the
                # stand-ins of other runs on a shared machine (child mode needs no pattern for its own)
                asfc.scheduler.process-pattern = "asfc-outage-log-volume-test-matches-nothing"
                """);
        await().atMost(Duration.ofSeconds(30)).until(() -> running("a"));
        long before = Files.size(logFile);

        proxy.cut();
        await("the agent stays cut off for " + OUTAGE)
                .during(OUTAGE)
                .atMost(OUTAGE.plusSeconds(5))
                .until(() -> !agents.client("a").getZookeeperClient().isConnected());
        proxy.restore();
        await().atMost(Duration.ofSeconds(60)).until(() -> running("a"));
        long backAt = System.nanoTime();
        // one more heartbeat after recovery, so that the lines of the recovery itself are in
        await().atMost(Duration.ofSeconds(20))
                .until(() -> System.nanoTime() - backAt > Duration.ofSeconds(6).toNanos() && running("a"));

        List<String> lines = linesAfter(logFile, before);
        String all = String.join("\n", lines);
        System.out.println("OutageLogVolumeTest: " + lines.size() + " lines during a " + OUTAGE.toSeconds()
                + " s outage:\n" + all);
        assertTrue(lines.size() <= MAX_LINES, () -> lines.size() + " lines (at most " + MAX_LINES + "):\n" + all);
        for (String line : lines) {
            assertTrue(line.contains("[node=a]"), () -> "a line without its node: " + line + "\n" + all);
            assertTrue(
                    !(line.contains(" ERROR ") && line.contains("curator")),
                    () -> "Curator logged an expected session loss at ERROR: " + line + "\n" + all);
        }
    }

    /** The agent is connected, and reports its scheduler running: it got through the outage. */
    private boolean running(String node) throws Exception {
        return agents.client(node).getZookeeperClient().isConnected()
                && agents.agentRecord(node)
                        .map(AgentRecord::scheduler)
                        .map(AgentRecord.SchedulerState::running)
                        .orElse(false);
    }

    /**
     * Configures logging as bin/asfc-agent does for the daemon, into this test's directory. The
     * in-process ZooKeeper server is not the agent's and stays quiet.
     */
    private Path useShippedLogbackXml() throws Exception {
        Path shipped = Path.of(System.getProperty("user.dir"))
                .resolve("../conf/logback.xml")
                .normalize();
        logging.reset();
        logging.putProperty("asfc.log.dir", dir.toString());
        logging.putProperty("asfc.log.name", "asfc-agent");
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(logging);
        configurator.doConfigure(shipped.toFile());
        NodeConverter.setProcessNode("a"); // as RunCommand does: one agent per process
        logging.getLogger("org.apache.zookeeper.server").setLevel(Level.OFF);
        logging.getLogger("org.apache.curator.test").setLevel(Level.OFF);
        logging.getLogger("io.asfc.agent.testing").setLevel(Level.OFF);
        return dir.resolve("asfc-agent.log");
    }

    private static List<String> linesAfter(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, (int) offset, bytes.length - (int) offset, StandardCharsets.UTF_8);
        return text.lines().toList();
    }
}
