package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The binary distribution built by the agent module, unpacked into a directory, with logs and pid file kept in
 * that directory too. Runs {@code bin/asfc-agent} the way a user would.
 */
public final class Distribution {

    static final String TARBALL_PROPERTY = "asfc.dist.tarball";
    static final String SCRIPT = "bin/asfc-agent";

    private static final String TARBALL_PREFIX = "asfc-agent-";
    private static final String TARBALL_SUFFIX = "-bin.tar.gz";
    private static final Duration UNPACK_TIMEOUT = Duration.ofMinutes(1);

    private final Path home;
    private final Path workDir;
    private final String version;

    private Distribution(Path home, Path workDir, String version) {
        this.home = home;
        this.workDir = workDir;
        this.version = version;
    }

    /** Unpacks the tarball named by the {@value #TARBALL_PROPERTY} system property into {@code dir}. */
    public static Distribution unpack(Path dir) throws IOException, InterruptedException {
        String property = System.getProperty(TARBALL_PROPERTY);
        assertTrue(
                property != null && !property.isBlank(),
                "system property " + TARBALL_PROPERTY + " is not set; run the ITs with Maven (failsafe sets it)");
        return unpack(dir, Path.of(property).toAbsolutePath());
    }

    /** Unpacks the distribution {@code tarball} (e.g. one of an earlier commit) into {@code dir}. */
    public static Distribution unpack(Path dir, Path tarball) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(tarball), "no distribution at " + tarball + "; build the agent module first");
        String name = tarball.getFileName().toString();
        assertTrue(
                name.startsWith(TARBALL_PREFIX) && name.endsWith(TARBALL_SUFFIX),
                "unexpected distribution name " + name);
        String version = name.substring(TARBALL_PREFIX.length(), name.length() - TARBALL_SUFFIX.length());

        Path unpacked = Files.createDirectories(dir.resolve("dist"));
        CommandResult tar = Commands.run(
                List.of("tar", "xzf", tarball.toString(), "-C", unpacked.toString()),
                dir,
                System.getenv(),
                UNPACK_TIMEOUT);
        assertEquals(0, tar.exitCode(), tar::describe);
        Path home = unpacked.resolve("asfc-agent-" + version);
        assertTrue(Files.isDirectory(home), () -> tarball + " has no top-level directory asfc-agent-" + version);
        Path workDir = Files.createDirectories(dir.resolve("work"));
        return new Distribution(home, workDir, version);
    }

    /** Where the distribution was unpacked ({@code ASFC_HOME}). */
    public Path home() {
        return home;
    }

    /** The distribution's {@code lib/} as a class path, for running its jars (ZooKeeper, zkCli) directly. */
    public String classPath() {
        return home.resolve("lib").toString() + "/*";
    }

    /**
     * Runs ZooKeeper's own command line client (zkCli) from the distribution's jars against {@code
     * connect}, unauthenticated, with {@code command} (e.g. {@code "get", "/path"}); its log goes under
     * {@code dir}.
     */
    CommandResult zkCli(String connect, Path dir, String... command) throws IOException, InterruptedException {
        return zkCli(connect, dir, List.of(), command);
    }

    /**
     * As {@link #zkCli(String, Path, String...)}, with {@code jvmOptions} (system properties, never secrets),
     * e.g. the JAAS file and section of a SASL client.
     */
    CommandResult zkCli(String connect, Path dir, List<String> jvmOptions, String... command)
            throws IOException, InterruptedException {
        Path logs = Files.createDirectories(dir.resolve("zkcli"));
        List<String> line = new java.util.ArrayList<>(List.of(
                java(),
                "-Dlogback.configurationFile=" + home.resolve("conf/logback.xml"),
                "-Dasfc.log.dir=" + logs,
                "-Dasfc.log.name=zkcli"));
        line.addAll(jvmOptions);
        line.addAll(List.of("-cp", classPath(), "org.apache.zookeeper.ZooKeeperMain", "-server", connect));
        line.addAll(List.of(command));
        return Commands.run(line, dir, System.getenv(), LocalAgent.CLI_COMMAND_TIMEOUT);
    }

    /** The java launcher of this test JVM, which the distribution is also run with. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The project version, read from the tarball's name. */
    String version() {
        return version;
    }

    Path logDir() {
        return workDir.resolve("logs");
    }

    Path pidDir() {
        return workDir.resolve("run");
    }

    Path pidFile() {
        return pidDir().resolve("asfc-agent.pid");
    }

    /** Appends one line to the shipped {@code conf/asfc.conf}. */
    void appendConfig(String line) throws IOException {
        Path conf = home.resolve("conf/asfc.conf");
        assertTrue(Files.isRegularFile(conf), "the distribution ships no " + conf);
        Files.writeString(conf, "\n" + line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /**
     * Runs {@code bin/asfc-agent} with {@code args} from the work directory, in the test JVM's environment less
     * any {@code ASFC_*} variables, with logs and pid file under the work directory and this test JVM's Java.
     */
    CommandResult run(Duration timeout, String... args) throws IOException, InterruptedException {
        return run(Map.of(), timeout, args);
    }

    /**
     * Runs {@code bin/asfc-agent} as {@link #run(Duration, String...)} does, with {@code overrides} added to (or
     * replacing entries of) its environment, e.g. {@code ASFC_CONF_DIR}, {@code ASFC_PID_DIR} and {@code
     * ASFC_LOG_DIR} for one of several agents that share this distribution.
     */
    CommandResult run(Map<String, String> overrides, Duration timeout, String... args)
            throws IOException, InterruptedException {
        return run(List.of(), overrides, timeout, args);
    }

    /**
     * Runs {@code bin/asfc-agent} as {@link #run(Map, Duration, String...)} does, behind {@code prefix}: e.g. an
     * {@code nsenter} into one host of the proving ground.
     */
    public CommandResult run(List<String> prefix, Map<String, String> overrides, Duration timeout, String... args)
            throws IOException, InterruptedException {
        Map<String, String> environment = new HashMap<>(System.getenv());
        environment.keySet().removeIf(key -> key.startsWith("ASFC_"));
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("ASFC_LOG_DIR", logDir().toString());
        environment.put("ASFC_PID_DIR", pidDir().toString());
        environment.put("ASFC_START_TIMEOUT", "60");
        environment.put("ASFC_STOP_TIMEOUT", "30");
        environment.putAll(overrides);
        List<String> command = Stream.of(
                        prefix.stream(), Stream.of(home.resolve(SCRIPT).toString()), Stream.of(args))
                .flatMap(s -> s)
                .toList();
        return Commands.run(command, workDir, environment, timeout);
    }

    /** The pid recorded in the pid file, if there is a pid file holding a number. */
    Optional<Long> recordedPid() throws IOException {
        if (!Files.isRegularFile(pidFile())) {
            return Optional.empty();
        }
        String content = Files.readString(pidFile(), StandardCharsets.UTF_8).trim();
        try {
            return Optional.of(Long.parseLong(content));
        } catch (NumberFormatException e) {
            // Not a pid the script wrote; callers treat it as no pid.
            return Optional.empty();
        }
    }

    /** The last lines of every file in the log directory, for assertion messages. */
    String logTails() {
        StringBuilder tails = new StringBuilder();
        try (Stream<Path> files = Files.list(logDir())) {
            files.filter(Files::isRegularFile).sorted().forEach(file -> tails.append("--- last lines of ")
                    .append(file)
                    .append(":\n")
                    .append(Commands.tail(file, 40)));
        } catch (IOException e) {
            tails.append("(no logs in ").append(logDir()).append(": ").append(e).append(")\n");
        }
        return tails.toString();
    }
}
