package io.asfc.agent.testing;

import static org.awaitility.Awaitility.await;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real agent in a JVM of its own, started from this test's classpath ({@code AsfcCli run}, as
 * {@code bin/asfc-agent start-foreground} runs it): the fault model for an agent's death and freeze.
 * {@link #kill()} is a kill -9 (the server expires the session after its timeout, nothing of the agent
 * runs any more: no cleanup, no self-fence, no handover) and {@link #freeze()} a SIGSTOP, never a
 * client close, which ends the session at once and leaves the agent's threads running.
 */
public final class AgentProcess implements Closeable {
    private static final Duration READY = Duration.ofSeconds(90);

    private final String node;
    private final Process process;
    private final Path output;

    private final Path runDir;

    private AgentProcess(String node, Process process, Path output, Path runDir) {
        this.node = node;
        this.process = process;
        this.output = output;
        this.runDir = runDir;
    }

    /** Starts node {@code node} with config file {@code conf}, and returns once it has joined the cluster. */
    static AgentProcess start(String node, Path conf, Path dir) throws IOException {
        Path home = Files.createDirectories(dir.resolve("process-" + node + "-" + System.nanoTime()));
        Path ready = home.resolve("ready");
        Path output = home.resolve("agent.out");
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process process = new ProcessBuilder(List.of(
                        java,
                        "-Xmx128m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-Dasfc.home=" + home,
                        "-Dasfc.log.dir=" + dir.resolve("logs"),
                        "-Dasfc.pid.dir=" + dir.resolve("run"),
                        "io.asfc.agent.cli.AsfcCli",
                        "run",
                        "--conf",
                        conf.toString(),
                        "--ready-file",
                        ready.toString()))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        AgentProcess agent = new AgentProcess(node, process, output, dir.resolve("run"));
        try {
            await("agent " + node + " (pid " + process.pid() + ") ready")
                    .atMost(READY)
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError("agent " + node + " exited with " + process.exitValue()
                                    + " before it was ready:\n" + agent.output());
                        }
                        return Files.exists(ready);
                    });
        } catch (RuntimeException | Error e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    public String node() {
        return node;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9, and waits until the kernel has reaped it. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(1, TimeUnit.MINUTES)) {
                throw new AssertionError("agent " + node + " (pid " + pid() + ") outlived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while killing agent " + node, e);
        }
    }

    /**
     * {@code bin/asfc-agent stop --hand-over}: the hand-over request for this pid, then SIGTERM; returns once the
     * agent has exited.
     */
    public void handOver() throws IOException {
        Files.createDirectories(runDir);
        Files.writeString(runDir.resolve("hand-over.request"), pid() + "\n");
        signal("TERM");
        try {
            if (!process.waitFor(1, TimeUnit.MINUTES)) {
                throw new AssertionError("agent " + node + " (pid " + pid() + ") did not exit on SIGTERM");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while stopping agent " + node, e);
        }
    }

    /** SIGSTOP: every thread of the agent stops where it is, as in a long GC pause or a debugger. */
    public void freeze() {
        signal("STOP");
    }

    /** SIGCONT after {@link #freeze()}. */
    public void thaw() {
        signal("CONT");
    }

    /** What the agent printed (its log). */
    public String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid()))
                    .redirectErrorStream(true)
                    .start();
            if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + signal + " " + pid() + " failed: "
                        + new String(kill.getInputStream().readAllBytes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while signalling agent " + node, e);
        }
    }

    /** Ends the agent if it still runs (SIGKILL ends a frozen one too). */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
