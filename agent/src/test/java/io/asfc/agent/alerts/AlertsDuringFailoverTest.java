package io.asfc.agent.alerts;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import io.asfc.agent.testing.AgentProcess;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.testing.HungServer;
import io.asfc.common.testing.StandIn;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An SMTP server that accepts and never answers must not hold up a failover. */
class AlertsDuringFailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private HungServer smtp;

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
        smtp = HungServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (agents != null) {
            agents.close();
        }
        if (standIn != null) {
            standIn.killAll();
        }
        if (smtp != null) {
            smtp.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void hungSmtpServerDoesNotDelayTheFailover() throws Exception {
        try (LogCapture logs = LogCapture.of(Level.DEBUG, EmailAlerter.class.getName())) {
            AgentProcess a = agents.startProcess("a", server.getConnectString(), config("a"));
            await().atMost(WAIT).until(() -> running("a"));
            agents.start("b", server.getConnectString(), config("b"));
            await().atMost(WAIT).until(() -> agents.agentRecord("b").isPresent());
            // a's leadership alert is stuck on the SMTP server, which accepted and never speaks.
            await().atMost(WAIT).until(() -> smtp.accepted() >= 1);

            // a's agent dies (kill -9): b becomes ACTIVE (its own alert hangs too) and takes the scheduler over.
            a.kill();
            await().atMost(WAIT).until(() -> running("b"));
            await().atMost(WAIT).until(() -> smtp.accepted() >= 2);

            // Every send is still in flight (the SMTP timeout is 5 minutes): nothing was mailed or
            // refused, and the failover did not wait for any of it.
            assertEquals(0, logs.count(Level.WARN, "alert mailed"), logs::everything);
            assertEquals(0, logs.count(Level.WARN, "not accepted"), logs::everything);
            assertEquals("b", agents.assignment().orElseThrow().node());
        }
    }

    private boolean running(String node) throws Exception {
        return agents.agentRecord(node).map(r -> r.scheduler().running()).orElse(false);
    }

    private String config(String node) {
        // takeover-grace 2s: a runs as a process of its own, whose command line checks the S4 budget
        return StandIn.FAST_TIMINGS + standIn.config(node, "") + "\nasfc.nodes = [a, b]\n"
                + "asfc.controller.takeover-grace = 2s\n"
                + """
                asfc.alerts {
                  on-leadership-change = true
                  email {
                    enabled = true
                    to = ["ops@localhost"]
                    from = "asfc@localhost"
                    timeout = 5m
                    smtp { host = "127.0.0.1", port = %d }
                  }
                }
                """
                        .formatted(smtp.port());
    }
}
