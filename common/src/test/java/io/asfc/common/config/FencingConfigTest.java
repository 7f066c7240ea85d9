package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.Modes.Failback;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code asfc.controller.fencing}, {@code fencing-timeout}, {@code failback} and {@code failback-after}. */
class FencingConfigTest {
    private static final String MINIMAL =
            """
            asfc {
              zookeeper.connect = "zk1:2181"
            }
            """;

    @TempDir
    Path dir;

    private final SettingsLoader loader = new SettingsLoader(Path.of("/opt/asfc"), () -> "host-a");

    @Test
    void defaultsKeepTodaysBehaviourSshOnlyAndNoFailback() throws IOException {
        ControllerSettings c = loader.load(write(MINIMAL)).controller();

        assertEquals(List.of(FencingEntry.SSH), c.fencing());
        assertEquals(Duration.ofSeconds(30), c.fencingTimeout());
        assertEquals(Failback.OFF, c.failback());
        assertEquals(Duration.ofMinutes(10), c.failbackAfter());
    }

    @Test
    void methodsAreKeptInOrderWithTheirCommands() throws IOException {
        ControllerSettings c = loader.load(
                        write(
                                MINIMAL
                                        + """
                        asfc.controller {
                          fencing = [ssh, "shell:/usr/local/bin/fence-ipmi $ASFC_HOST", "shell: /bin/true "]
                          fencing-timeout = 7s
                          failback = to-preferred
                          failback-after = 3s
                        }
                        """))
                .controller();

        assertEquals(
                List.of(
                        FencingEntry.SSH,
                        FencingEntry.shell("/usr/local/bin/fence-ipmi $ASFC_HOST"),
                        FencingEntry.shell("/bin/true")),
                c.fencing());
        assertEquals(Duration.ofSeconds(7), c.fencingTimeout());
        assertEquals(Failback.TO_PREFERRED, c.failback());
        assertEquals(Duration.ofSeconds(3), c.failbackAfter());
    }

    @Test
    void unknownMethodIsAProblemWithFileAndLine() throws IOException {
        Path file = write(MINIMAL + "asfc.controller.fencing = [ssh, ipmi]\n");

        ConfigProblem p = single(file);

        assertEquals("asfc.controller.fencing", p.key());
        assertEquals(file + ":4", p.origin());
        assertTrue(p.message().contains("unknown fencing method \"ipmi\""), p.message());
        assertTrue(p.message().contains("ssh | shell:<command>"), p.message());
    }

    @Test
    void shellWithoutCommandAndAnEmptyListAreProblems() throws IOException {
        assertTrue(single(write(MINIMAL + "asfc.controller.fencing = [\"shell:  \"]\n"))
                .message()
                .contains("shell: needs a command"));
        assertTrue(single(write(MINIMAL + "asfc.controller.fencing = []\n"))
                .message()
                .contains("at least one"));
    }

    @Test
    void badFailbackValueListsTheAllowedOnes() throws IOException {
        ConfigProblem p = single(write(MINIMAL + "asfc.controller.failback = always\n"));

        assertEquals("asfc.controller.failback", p.key());
        assertTrue(p.message().contains("off | to-preferred"), p.message());
    }

    private ConfigProblem single(Path file) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));
        assertEquals(1, e.problems().size(), e.getMessage());
        return e.problems().get(0);
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "asfc", ".conf");
        Files.writeString(file, content);
        return file;
    }
}
