package io.asfc.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check-config} shows the fencing methods and failback, and refuses an unknown method (exit 78). */
class CheckConfigFencingTest {
    @TempDir
    Path dir;

    @Test
    void showsEachMethodByItsPlaceAndProgramNeverItsArguments() throws IOException {
        Path conf = write(
                """
                asfc {
                  zookeeper.connect = "zk:2181"
                  nodes = [a, b]
                  node.id = a
                  controller {
                    fencing = [ssh, "shell:/usr/local/bin/fence-ipmi --password s3cret"]
                    failback = to-preferred
                    failback-after = 5m
                  }
                }
                """);

        CliRun run = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(
                run.out().contains("ssh, shell #2 (/usr/local/bin/fence-ipmi); a shell method may run 30s"), run.out());
        assertTrue(run.out().contains("to a after 300s healthy"), run.out());
        assertFalse(run.out().contains("s3cret"), run.out());
    }

    @Test
    void anUnknownMethodIsABadConfigWithFileAndLine() throws IOException {
        Path conf = write("asfc {\n  zookeeper.connect = \"zk:2181\"\n  controller.fencing = [ssh, stonith]\n}\n");

        CliRun run = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(78, run.exitCode(), run::toString);
        assertTrue(run.err().contains(conf + ":3"), run::toString);
        assertTrue(run.err().contains("unknown fencing method \"stonith\""), run::toString);
    }

    private Path write(String content) throws IOException {
        Path file = dir.resolve("asfc.conf");
        Files.writeString(file, content);
        return file;
    }
}
