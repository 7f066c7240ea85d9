package io.asfc.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.Version;
import io.asfc.common.net.Hostnames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

class AsfcCliTest {
    @TempDir
    Path dir;

    @Test
    void versionPrintsTheBuiltVersion() {
        CliRun run = CliRun.of("version");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().startsWith("asfc-agent " + Version.get() + "\n"), run::toString);
        assertFalse(Version.get().contains("${"), "version.properties must be filtered by the build");
    }

    @Test
    void initWritesAValidConfigWithThisHostAndRefusesToOverwrite() throws IOException {
        Path conf = dir.resolve("conf/asfc.conf");

        CliRun first = CliRun.of("init", conf.toString());
        String written = Files.readString(conf);
        CliRun second = CliRun.of("init", conf.toString());
        CliRun check = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(0, first.exitCode(), first::toString);
        assertTrue(written.contains("node.id = \"" + Hostnames.local() + "\""), written);
        assertEquals(1, second.exitCode(), second::toString);
        assertTrue(second.err().contains("already exists"), second::toString);
        assertEquals(written, Files.readString(conf), "the refused init must leave the file alone");
        assertEquals(0, check.exitCode(), check::toString);
    }

    @Test
    void initWritesToTheConfFileByDefault() {
        Path conf = dir.resolve("asfc.conf");

        CliRun run = CliRun.of("--conf", conf.toString(), "init");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(Files.isRegularFile(conf));
    }

    @Test
    void getCurrentHostPrintsTheNodeIdUnderBothSpellings() throws IOException {
        Path conf = write("asfc { node.id = sched-b, zookeeper.connect = \"zk:2181\" }\n");

        CliRun dashed = CliRun.of("--conf", conf.toString(), "get-current-host");
        CliRun underscored = CliRun.of("get_current_host", "--conf", conf.toString());

        assertEquals(0, dashed.exitCode(), dashed::toString);
        assertEquals("sched-b\n", dashed.out());
        assertEquals(0, underscored.exitCode(), underscored::toString);
        assertEquals("sched-b\n", underscored.out());
    }

    @Test
    void getCurrentHostDefaultsToTheHostName() throws IOException {
        Path conf = write("asfc.zookeeper.connect = \"zk:2181\"\n");

        CliRun run = CliRun.of("--conf", conf.toString(), "get-current-host");

        assertEquals(Hostnames.local() + "\n", run.out(), run::toString);
    }

    @Test
    void badConfigExits78WithEveryProblemAndNoSecret() throws IOException {
        Path conf = write(
                """
                asfc {
                  zookeeper { connect = "zk:2181", sesion-timeout = 3s }
                  alerts.email.smtp.password = [ "s3cret-value" ]
                }
                """);

        CliRun run = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(78, run.exitCode(), run::toString);
        assertTrue(run.err().contains(conf + ":2: asfc.zookeeper.sesion-timeout: unknown key"), run::toString);
        assertTrue(run.err().contains("asfc.alerts.email.smtp.password"), run::toString);
        assertFalse(run.err().contains("s3cret-value") || run.out().contains("s3cret-value"), run::toString);
    }

    @Test
    void anImpossibleS4BudgetExits78NamingEveryTerm() throws IOException {
        // the pre-0.2 defaults: a cut-off host's scheduler may live 15.7 s, another may start at 15 s
        Path conf = write(
                """
                asfc {
                  zookeeper { connect = "zk:2181", session-timeout = 10s, self-fence-after = 4s }
                  scheduler.self-fence-stop-timeout = 5s
                  controller.takeover-grace = 5s
                }
                """);

        for (String command : new String[] {"check-config", "run"}) {
            CliRun run = CliRun.of("--conf", conf.toString(), command);

            assertEquals(78, run.exitCode(), run::toString);
            for (String term : new String[] {
                "S4 budget",
                "zookeeper.session-timeout",
                "zookeeper.self-fence-after",
                "scheduler.self-fence-stop-timeout",
                "controller.takeover-grace"
            }) {
                assertTrue(run.err().contains(term), () -> command + " names " + term + ": " + run);
            }
        }
    }

    @Test
    void aDeadmanTimeoutThatBreaksTheBudgetExits78() throws IOException {
        // the self-fence fits (14.7 s < 15 s); a deadman of 10 s + 5 s stop does not
        Path conf = write(
                """
                asfc {
                  zookeeper { connect = "zk:2181", session-timeout = 10s, self-fence-after = 3s }
                  scheduler { self-fence-stop-timeout = 5s, deadman-timeout = 10s }
                  controller.takeover-grace = 5s
                }
                """);

        for (String command : new String[] {"check-config", "run"}) {
            CliRun run = CliRun.of("--conf", conf.toString(), command);

            assertEquals(78, run.exitCode(), run::toString);
            assertTrue(run.err().contains("scheduler.deadman-timeout 10000ms"), () -> command + ": " + run);
        }
    }

    @Test
    void checkConfigShowsTheWatchdogDeviceAndWarnsWhenItsTimeoutIsUnknown() throws IOException {
        Path device = Files.createFile(dir.resolve("watchdog-standin"));
        Path conf = write("asfc { zookeeper.connect = \"zk:2181\", scheduler.watchdog.device = \"" + device + "\" }\n");

        CliRun run = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("watchdog        " + device + ", timeout unknown"), run::toString);
        assertTrue(run.err().contains("cannot read the timeout of watchdog.device"), run::toString);

        CliRun missing = CliRun.of(
                "--conf",
                write("asfc { zookeeper.connect = \"zk:2181\", scheduler.watchdog.device = \"" + dir.resolve("none")
                                + "\" }\n")
                        .toString(),
                "check-config");
        assertEquals(78, missing.exitCode(), missing::toString);
        assertTrue(missing.err().contains("asfc.scheduler.watchdog.device"), missing::toString);
    }

    @Test
    void checkConfigWarnsThatANowayoutDeviceResetsTheHostAfterEveryStop() throws IOException {
        Path device = Files.createFile(dir.resolve("watchdog0"));
        Path sys = dir.resolve("sys");
        Path entry = Files.createDirectories(sys.resolve("class/watchdog/watchdog0"));
        Files.writeString(entry.resolve("timeout"), "5\n");
        Files.writeString(entry.resolve("nowayout"), "1\n");
        Path conf = write("asfc { zookeeper.connect = \"zk:2181\", scheduler.watchdog.device = \"" + device + "\" }\n");

        CliRun run = CliRun.withSysfs(sys, "--conf", conf.toString(), "check-config");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("watchdog        " + device + ", timeout 5s, nowayout"), run::toString);
        assertTrue(run.err().contains("warning: watchdog.device " + device + " has nowayout set"), run::toString);
        assertTrue(run.err().contains("resets this host"), run::toString);

        Files.writeString(entry.resolve("nowayout"), "0\n");
        CliRun off = CliRun.withSysfs(sys, "--conf", conf.toString(), "check-config");
        assertEquals(0, off.exitCode(), off::toString);
        assertTrue(off.out().contains("watchdog        " + device + ", timeout 5s\n"), off::toString);
        assertFalse(off.err().contains("nowayout"), off::toString);
    }

    @Test
    void checkConfigMasksSecrets() throws IOException {
        Path conf = write(
                """
                asfc {
                  zookeeper { connect = "zk:2181", auth { user = asfc, password = "zk-s3cret" } }
                  alerts.email { enabled = true, to = ["ops@example.com"], from = "asfc@example.com" }
                  alerts.email.smtp { user = mailer, password = "mail-s3cret" }
                }
                """);

        CliRun run = CliRun.of("--conf", conf.toString(), "check-config");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("mailer / ******"), run::toString);
        assertFalse(run.out().contains("s3cret"), run::toString);
    }

    @Test
    void missingConfigFileExits78() {
        CliRun run = CliRun.of("--conf", dir.resolve("absent.conf").toString(), "get-current-host");

        assertEquals(78, run.exitCode(), run::toString);
        assertTrue(run.err().contains("config file not found"), run::toString);
    }

    @ParameterizedTest
    @MethodSource("badUsage")
    void badUsageExits2(String[] args) {
        CliRun run = CliRun.of(args);

        assertEquals(2, run.exitCode(), run::toString);
        assertFalse(run.err().isBlank(), "a usage error must say what is wrong: " + run);
    }

    static Stream<Arguments> badUsage() {
        return Stream.of(
                Arguments.of((Object) new String[] {}),
                Arguments.of((Object) new String[] {"no-such-command"}),
                Arguments.of((Object) new String[] {"version", "--bogus-option"}),
                Arguments.of((Object) new String[] {"init", "a.conf", "b.conf"}));
    }

    @Test
    void everyCommandHasHelp() {
        CommandLine root = new CommandLine(new AsfcCli());
        for (String name : root.getSubcommands().keySet()) {
            CliRun run = CliRun.of(name, "--help");

            assertEquals(0, run.exitCode(), () -> name + ": " + run);
            assertTrue(
                    run.out()
                            .contains("Usage: asfc-agent "
                                    + root.getSubcommands().get(name).getCommandName()),
                    () -> name + ": " + run);
            assertTrue(
                    run.out().lines().allMatch(l -> l.length() <= AsfcCli.USAGE_WIDTH),
                    () -> name + ": a help line is wider than " + AsfcCli.USAGE_WIDTH + ":\n" + run.out());
        }
        // a description line is printed whole, not wrapped mid-sentence
        assertTrue(
                CliRun.of("failover", "--help")
                        .out()
                        .contains(
                                "The ACTIVE controller stops it on its node, waits until that node reports it stopped, then\n"),
                () -> CliRun.of("failover", "--help").out());
    }

    /** Commands that never read asfc.conf, so {@code --conf} would mean nothing there. */
    private static final Set<String> WITHOUT_CONFIG = Set.of("version", "import-airflow-cfg", "demo", "help");

    @Test
    void everySummaryInTheCommandListIsOneCompleteSentenceOnOneLine() {
        CommandLine root = new CommandLine(new AsfcCli());
        for (CommandLine sub : root.getSubcommands().values()) {
            String[] description = sub.getCommandSpec().usageMessage().description();
            String name = sub.getCommandName();
            assertTrue(description.length > 0, name + " has no description");
            assertTrue(description[0].endsWith("."), () -> name + ": summary is not a sentence: " + description[0]);
        }
        String help = CliRun.of("--help").out();
        List<String> commandList = help.lines()
                .dropWhile(l -> !l.equals("Commands:"))
                .skip(1)
                .takeWhile(l -> !l.isBlank())
                .toList();
        assertFalse(commandList.isEmpty(), help);
        for (String line : commandList) {
            // a wrapped summary leaves a line that starts with the description column's indent
            assertTrue(line.matches("  [a-z].*\\.$"), () -> "cut or wrapped summary: '" + line + "' in\n" + help);
        }
    }

    @Test
    void confIsOfferedExactlyWhereTheConfigIsReadAndVersionOnlyAtTheTop() {
        CommandLine root = new CommandLine(new AsfcCli());
        assertTrue(root.getCommandSpec().findOption("-V") != null, "asfc-agent -V");
        for (CommandLine sub : root.getSubcommands().values()) {
            String name = sub.getCommandName();
            boolean offersConf = sub.getCommandSpec().findOption("--conf") != null;
            assertEquals(!WITHOUT_CONFIG.contains(name), offersConf, () -> name + " --conf");
            assertTrue(sub.getCommandSpec().findOption("-V") == null, () -> name + " offers -V");
            if (!name.equals("help")) {
                assertTrue(sub.getCommandSpec().findOption("--help") != null, () -> name + " --help");
            }
        }
    }

    @Test
    void confGivenAfterTheCommandIsUsed() throws IOException {
        Path conf = write(
                "asfc { node.id = after-the-command, nodes = [after-the-command], zookeeper.connect = \"zk:2181\" }");

        CliRun run = CliRun.of("get-current-host", "--conf", conf.toString());

        assertEquals(0, run.exitCode(), run::toString);
        assertEquals("after-the-command\n", run.out(), run::toString);
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "asfc", ".conf");
        Files.writeString(file, content);
        return file;
    }
}
