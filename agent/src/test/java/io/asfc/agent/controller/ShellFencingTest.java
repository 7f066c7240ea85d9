package io.asfc.agent.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.election.Lease;
import io.asfc.common.config.FencingEntry;
import io.asfc.common.process.ConfiguredCommand;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code shell:<command>} fencing, with a real {@code /bin/sh}: exit 0 confirms, nothing else does. */
class ShellFencingTest {
    private static final Lease LEASE = new Lease("a", 7, "/latch/n-1");
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final AtomicInteger proofs = new AtomicInteger();

    private ShellFencing method(String command) {
        FencingSite site = new FencingSite("prod", Map.of("c", "host-c.example")::get, TIMEOUT, dir.resolve("logs"));
        return new ShellFencing(
                FencingEntry.shell(command).label(2),
                command,
                site,
                l -> proofs.incrementAndGet(),
                new TreeStopper(System::nanoTime));
    }

    @Test
    void exitZeroConfirmsAndTheNodeComesInTheEnvironmentNeverInArguments() throws Exception {
        Path env = dir.resolve("env");
        FencingMethod.Outcome outcome = method("env | grep '^ASFC_' | sort > " + env + "; echo fenced $ASFC_NODE")
                .fence(LEASE, "c", 1234);

        assertTrue(outcome.confirmed(), outcome.toString());
        assertEquals("exit 0", outcome.detail());
        assertEquals(
                List.of(
                        "ASFC_CLUSTER=prod",
                        "ASFC_EPOCH=7",
                        "ASFC_GENERATION=1234",
                        "ASFC_HOST=host-c.example",
                        "ASFC_NODE=c"),
                Files.readAllLines(env));
        assertEquals("fenced c\n", Files.readString(dir.resolve("logs/fencing-c.out")), "output goes to the log dir");
        assertEquals(1, proofs.get(), "leadership is proved before the command runs");
    }

    @Test
    void noOtherVariableOfTheAgentReachesTheCommand() throws Exception {
        Path env = dir.resolve("env");
        FencingMethod.Outcome outcome = method("env > " + env).fence(LEASE, "c", 1234);

        assertTrue(outcome.confirmed(), outcome.toString());
        Set<String> others = new HashSet<>();
        for (String line : Files.readAllLines(env)) {
            if (line.contains("=")) {
                others.add(line.substring(0, line.indexOf('=')));
            }
        }
        others.removeAll(ConfiguredCommand.INHERITED);
        others.removeIf(name -> name.startsWith("ASFC_"));
        others.removeAll(List.of("PWD", "OLDPWD", "SHLVL", "_")); // set by the shell itself
        assertEquals(
                Set.of(), others, "variables of the agent (which may hold secrets) a fencing command must not get");
    }

    @Test
    void anyOtherExitConfirmsNothing() {
        FencingMethod.Outcome outcome = method("exit 3").fence(LEASE, "c", 1);

        assertFalse(outcome.confirmed());
        assertEquals("exit 3", outcome.detail());
    }

    @Test
    void aCommandPastTheTimeoutIsKilledWithEverythingItStartedAndConfirmsNothing() throws Exception {
        Path pids = dir.resolve("pids");
        FencingMethod.Outcome outcome = method("sleep 600 & echo $$ $! > " + pids + "; (sleep 700 &); wait")
                .fence(LEASE, "c", 1);

        assertFalse(outcome.confirmed());
        assertTrue(outcome.detail().startsWith("timed out after 2000ms"), outcome.detail());
        for (String pid : Files.readString(pids).trim().split(" ")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessTable.read(Long.parseLong(pid))
                    .filter(p -> !p.isZombie())
                    .isEmpty());
        }
        assertTrue(
                ProcessTable.snapshot().matching(p -> p.cmdline().equals("sleep 700")).stream()
                        .noneMatch(TreeStopper::isAlive),
                "a daemonized grandchild in its session is killed too");
    }

    @Test
    void aDeposedLeaderRunsNothing() {
        Path ran = dir.resolve("ran");
        FencingSite site = new FencingSite("prod", n -> n, TIMEOUT, dir);
        ShellFencing method = new ShellFencing(
                "shell #1 (touch)",
                "touch " + ran,
                site,
                l -> {
                    throw new IllegalStateException("latch node gone");
                },
                new TreeStopper(System::nanoTime));

        FencingMethod.Outcome outcome = method.fence(LEASE, "c", 1);

        assertFalse(outcome.confirmed());
        assertTrue(outcome.detail().contains("cannot prove leadership"), outcome.detail());
        assertFalse(Files.exists(ran));
    }

    @Test
    void namedByItsPlaceAndProgramNeverByItsArguments() {
        assertEquals(
                "shell #2 (/usr/local/bin/fence-ipmi)",
                method("/usr/local/bin/fence-ipmi -P s3cret").name());
        assertEquals("shell #2 (sh)", method("IPMI_PASSWORD=s3cret fence-ipmi").name());
    }
}
