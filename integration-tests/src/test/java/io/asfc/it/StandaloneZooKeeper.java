package io.asfc.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * A standalone ZooKeeper server in its own JVM, run from the distribution's own jars with {@code
 * ZooKeeperServerMain}, as an operator could start one next to the agents.
 */
final class StandaloneZooKeeper implements AutoCloseable {

    /**
     * ZooKeeper's tick. ZooKeeperServerMain's default of 3 s sets the minimum session timeout to 2 ticks = 6 s, which
     * would silently raise the agents' 4 s session timeout; with 1 s ticks sessions may be 2 s to 20 s.
     */
    static final Duration TICK = Duration.ofSeconds(1);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    /** The servers' logback configuration, {@code formatted} with the log file. */
    static final String LOGBACK =
            """
            <configuration>
              <appender name="FILE" class="ch.qos.logback.core.FileAppender">
                <file>%s</file>
                <encoder><pattern>%%d{HH:mm:ss.SSS} %%-5level [%%thread] %%logger{36} - %%msg%%n</pattern></encoder>
              </appender>
              <root level="INFO"><appender-ref ref="FILE"/></root>
            </configuration>
            """;

    private final int port;
    private final Path log;
    private final Path out;
    private final Process process;

    private StandaloneZooKeeper(int port, Path log, Path out, Process process) {
        this.port = port;
        this.log = log;
        this.out = out;
        this.process = process;
    }

    /** Starts a server on a free port with its data and logs under {@code dir}, and waits until it serves. */
    static StandaloneZooKeeper start(Distribution dist, Path dir) throws IOException {
        return start(dist, dir, List.of());
    }

    /**
     * As {@link #start(Distribution, Path)}, with {@code jvmOptions} (system properties, never secrets) given to
     * the server's JVM, e.g. a JAAS file and an authentication provider.
     */
    static StandaloneZooKeeper start(Distribution dist, Path dir, List<String> jvmOptions) throws IOException {
        int port = Network.freePort();
        Path data = Files.createDirectories(dir.resolve("data"));
        Path log = dir.resolve("zookeeper.log");
        Path out = dir.resolve("zookeeper.out");
        Path logback = dir.resolve("logback.xml");
        Files.writeString(logback, LOGBACK.formatted(log), StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>(List.of(
                Distribution.java(), "-Dzookeeper.admin.enableServer=false", "-Dlogback.configurationFile=" + logback));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp",
                dist.classPath(),
                "org.apache.zookeeper.server.ZooKeeperServerMain",
                Integer.toString(port),
                data.toString(),
                Long.toString(TICK.toMillis())));
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        process.getOutputStream().close();
        StandaloneZooKeeper zk = new StandaloneZooKeeper(port, log, out, process);
        try {
            await("ZooKeeper on port " + port + " to answer srvr")
                    .atMost(START_TIMEOUT)
                    .pollInterval(Duration.ofMillis(100))
                    .ignoreExceptionsInstanceOf(IOException.class)
                    .failFast("ZooKeeper exited", () -> !process.isAlive())
                    .until(() -> Network.fourLetterWord(port, "srvr").contains("Zookeeper version"));
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            String tails = zk.logTails();
            zk.close();
            throw new AssertionError("ZooKeeper did not start: " + String.join(" ", command) + "\n" + tails, e);
        }
        return zk;
    }

    int port() {
        return port;
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    String logTails() {
        return "--- last lines of " + out + ":\n" + Commands.tail(out, 20) + "--- last lines of " + log + ":\n"
                + Commands.tail(log, 40);
    }

    /** Stops the server: SIGTERM, then SIGKILL if it lingers. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
