package io.asfc.it.airflow;

import static org.awaitility.Awaitility.await;

import io.asfc.it.airflow.ProcTree.Identity;
import io.asfc.it.airflow.ProcTree.Proc;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Airflow's web server as a plain child of the test, on 127.0.0.1: {@code airflow webserver} for 2.x, {@code airflow
 * api-server} for 3.x, with one worker. {@link #close()} kills it and every descendant (gunicorn's master and workers
 * in 2.x) by pid and start time, and waits until they are gone.
 */
final class AirflowServer implements AutoCloseable {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration GONE_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final String line;
    private final int port;

    private AirflowServer(Process process, String line, int port) {
        this.process = process;
        this.line = line;
        this.port = port;
    }

    /** Starts the server of {@code line} ("2" or "3") from {@code venv}; its output goes to {@code dir}. */
    static AirflowServer start(String line, Path venv, Path dir, Map<String, String> airflowEnv, int port)
            throws IOException {
        String command = line.equals("2") ? "webserver" : "api-server";
        ProcessBuilder builder = new ProcessBuilder(
                        venv.resolve("bin/airflow").toString(),
                        command,
                        "-H", // --hostname in 2.x, --host in 3.x
                        "127.0.0.1",
                        "-p",
                        Integer.toString(port),
                        "-w",
                        "1")
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(command + ".out").toFile());
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(airflowEnv);
        builder.environment().putAll(env);
        return new AirflowServer(builder.start(), line, port);
    }

    /** The health URL: the webserver's {@code /health} (2.x), the api-server's {@code /api/v2/monitor/health} (3.x). */
    String healthUrl() {
        return "http://127.0.0.1:" + port + (line.equals("2") ? "/health" : "/api/v2/monitor/health");
    }

    /** The server's processes now: it and every live descendant. */
    List<Proc> tree() throws IOException {
        return ProcTree.scan().treeOf(process.pid());
    }

    /** Waits until the health URL answers 200, and returns that answer's body. */
    String awaitHealthBody(Duration timeout) {
        String[] body = new String[1];
        await("the Airflow " + line + ".x web server's " + healthUrl() + " to answer 200")
                .atMost(timeout)
                .pollInterval(POLL)
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("the web server exited with status " + process.exitValue());
                    }
                    body[0] = get(healthUrl());
                    return body[0] != null;
                });
        return body[0];
    }

    /** The body of a 200 answer, or null for another status. */
    private static String get(String url) throws IOException {
        HttpURLConnection connection =
                (HttpURLConnection) URI.create(url).toURL().openConnection();
        connection.setConnectTimeout(2_000);
        connection.setReadTimeout(5_000);
        try {
            if (connection.getResponseCode() != 200) {
                return null;
            }
            return new String(connection.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            connection.disconnect();
        }
    }

    /** SIGKILL for the server and every descendant (by pid and start time), then waits until none is left. */
    @Override
    public void close() throws IOException {
        List<Proc> tree = ProcTree.scan().treeOf(process.pid());
        Set<Identity> ids = ProcTree.ids(tree);
        for (Proc p : tree) {
            ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        await("the web server's processes to be gone")
                .atMost(GONE_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> ProcTree.scan().among(ids).isEmpty());
    }
}
