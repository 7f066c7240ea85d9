package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The unpacked distribution, a standalone ZooKeeper and one agent {@code a} (nodes = [a]) with
 * extra config, for ITs that look at one agent from outside. {@link #close()} stops the agent,
 * then ZooKeeper, and fails if the agent could not be cleaned up.
 */
final class OneAgent implements AutoCloseable {
    private static final Duration SESSION = Duration.ofSeconds(6);

    private final Path dir;
    private final Distribution dist;
    private StandaloneZooKeeper zooKeeper;
    private LocalAgent agent;

    private OneAgent(Path dir, Distribution dist, StandaloneZooKeeper zooKeeper) {
        this.dir = dir;
        this.dist = dist;
        this.zooKeeper = zooKeeper;
    }

    /** Unpacks the distribution under {@code dir} and starts ZooKeeper; no agent yet. */
    static OneAgent prepare(Path dir) throws IOException, InterruptedException {
        return prepare(dir, List.of());
    }

    /** As {@link #prepare(Path)}, with {@code zooKeeperJvmOptions} for the server (see {@link StandaloneZooKeeper}). */
    static OneAgent prepare(Path dir, List<String> zooKeeperJvmOptions) throws IOException, InterruptedException {
        Distribution dist = Distribution.unpack(dir);
        return new OneAgent(
                dir,
                dist,
                StandaloneZooKeeper.start(
                        dist, Files.createDirectories(dir.resolve("zookeeper")), zooKeeperJvmOptions));
    }

    /** {@code bin/asfc-agent start} of agent {@code a} with {@code extraConfig} (HOCON); it must succeed. */
    LocalAgent start(String extraConfig) throws IOException, InterruptedException {
        LocalAgent created = create(extraConfig);
        CommandResult started = created.start();
        assertEquals(0, started.exitCode(), started::describe);
        return created;
    }

    /** Agent {@code a} with {@code extraConfig} (HOCON), not started: for its command-line commands. */
    LocalAgent create(String extraConfig) throws IOException {
        agent = LocalAgent.create(
                dist,
                "a",
                List.of("a"),
                zooKeeper.connectString(),
                SESSION,
                Files.createDirectories(dir.resolve("a")),
                extraConfig);
        return agent;
    }

    Distribution dist() {
        return dist;
    }

    String connectString() {
        return zooKeeper.connectString();
    }

    /** Stops ZooKeeper now, as a fault. */
    void stopZooKeeper() {
        zooKeeper.close();
        zooKeeper = null;
    }

    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        if (agent != null) {
            agent.stopForCleanup(problems);
        }
        if (zooKeeper != null) {
            zooKeeper.close();
        }
        assertTrue(problems.isEmpty(), problems::toString);
    }
}
