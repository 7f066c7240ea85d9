package io.asfc.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class SendTestEmailCommandTest {
    @RegisterExtension
    static final GreenMailExtension greenMail =
            new GreenMailExtension(ServerSetupTest.SMTP.createCopy("127.0.0.1").dynamicPort());

    @TempDir
    Path dir;

    @Test
    void acceptedTestMailExits0AndArrives() throws IOException, MessagingException {
        int port = greenMail.getSmtp().getPort();
        Path conf = write(mailConfig(true, port));

        CliRun run = CliRun.of("--conf", conf.toString(), "send-test-email");

        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(
                "test e-mail accepted by 127.0.0.1:" + port + " for ops@example.com, oncall@example.com\n",
                run.out(),
                run::toString);
        MimeMessage[] received = greenMail.getReceivedMessages();
        assertEquals(2, received.length, "one copy per recipient");
        assertEquals("[asfc] prod: test e-mail from agent a", received[0].getSubject());
    }

    @Test
    void refusedConnectionExits1WithTheReason() throws IOException {
        Path conf = write(mailConfig(true, closedPort()));

        CliRun run = CliRun.of("--conf", conf.toString(), "send_test_email");

        assertEquals(1, run.exitCode(), run::toString);
        assertTrue(run.err().contains("test e-mail NOT accepted: "), run::toString);
        assertTrue(run.err().contains("Connection refused"), run::toString);
        assertEquals("", run.out(), run::toString);
    }

    @Test
    void disabledEmailExits1AndSaysHowToEnableIt() throws IOException {
        Path conf = write(mailConfig(false, greenMail.getSmtp().getPort()));

        CliRun run = CliRun.of("--conf", conf.toString(), "send-test-email");

        assertEquals(1, run.exitCode(), run::toString);
        assertTrue(run.err().contains("alerts.email.enabled is false; set it to true to send alerts"), run::toString);
        assertEquals(0, greenMail.getReceivedMessages().length);
    }

    private static String mailConfig(boolean enabled, int port) {
        return """
                asfc {
                  cluster = prod
                  node.id = a
                  zookeeper.connect = "zk:2181"
                  alerts.email {
                    enabled = %s
                    to = ["ops@example.com", "oncall@example.com"]
                    from = "asfc@example.com"
                    timeout = 5s
                    smtp { host = "127.0.0.1", port = %d }
                  }
                }
                """
                .formatted(enabled, port);
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "asfc", ".conf");
        Files.writeString(file, content);
        return file;
    }
}
