package io.asfc.common.ssh;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.SettingsLoader;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.testing.Sshd;
import io.asfc.common.testing.StandIn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RemoteScheduler} against a real sshd in its own pid namespace: a "host" whose /proc shows
 * only what runs there, with the stand-in scheduler (main, manager, processors, workers).
 */
class RemoteSchedulerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private Sshd host;
    private SshClient ssh;
    private StandIn standIn;

    @BeforeEach
    void start() throws Exception {
        Sshd.assumeNamespacesAvailable();
        host = Sshd.startInOwnPidNamespace(dir.resolve("host"));
        standIn = new StandIn(dir);
        ssh = new SshClient(settings("airflow scheduler").ssh());
    }

    @AfterEach
    void stop() {
        if (ssh != null) {
            ssh.close();
        }
        if (host != null) {
            host.close();
        }
    }

    private AsfcSettings settings(String pattern) throws Exception {
        return new StandIn(dir).overSsh(host, pattern);
    }

    private RemoteScheduler remote(String pattern) throws Exception {
        return new RemoteScheduler(ssh, settings(pattern).scheduler());
    }

    private SshTarget target() {
        return new SshTarget("c", "127.0.0.1", host.user(), host.port());
    }

    /** Processes of the stand-in inside the host's namespace. */
    private List<ProcessInfo> standIns() {
        return host.processes().stream()
                .filter(p -> p.cmdline().contains(StandIn.SCRIPT.toString()))
                .toList();
    }

    @Test
    void findsAStrayAndStopsItsWholeTree() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        assertFalse(remote.look(target()).running(), "nothing runs yet");
        host.startByHand(standIn.byHand("c"));
        await().atMost(WAIT).until(() -> standIns().size() >= 3); // main, manager and workers
        RemoteScheduler.Look look =
                await().atMost(WAIT).until(() -> remote.look(target()), RemoteScheduler.Look::running);
        assertTrue(
                look.schedulers().get(0).cmdline().startsWith("airflow scheduler " + StandIn.SCRIPT),
                "the main comes first (oldest): " + look.describe());
        assertTrue(look.trees().size() >= 3, "the tree includes the helpers: " + look.trees());

        RemoteScheduler.Stop stop = remote.stopAll(target());
        assertTrue(stop.signalled() >= 3, stop.describe());
        assertFalse(remote.look(target()).running());
        await().atMost(WAIT).until(() -> standIns().isEmpty());
    }

    @Test
    void theCheckNeverMatchesItsOwnShell() throws Exception {
        assertFalse(remote("sh -s -- dump").look(target()).running());
        assertFalse(remote("dump").look(target()).running());
    }

    @Test
    void aSchedulerIgnoringTermIsKilledAfterStopTimeout() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        host.startByHand(standIn.byHand("c", "--ignore-term"));
        RemoteScheduler.Look look = await().atMost(WAIT)
                .until(() -> remote.look(target()), l -> l.trees().size() >= 3);
        RemoteScheduler.Stop stop = remote.stopExactly(target(), look.trees().values());
        assertTrue(stop.killed(), stop.describe());
        await().atMost(WAIT).until(() -> !remote.look(target()).running());
    }

    @Test
    void theEnvironmentReachesTheSchedulerButNeverTheCommandLine() throws Exception {
        Path seen = dir.resolve("seen");
        Path conf = dir.resolve("env.conf");
        Files.writeString(
                conf,
                """
                asfc {
                  node.id = a
                  zookeeper.connect = "127.0.0.1:1"
                  scheduler {
                    start-command = \"""printf '%%s %%s' "$DB_PASSWORD" "$ASFC_NODE" > %s; exec sleep 30\"""
                    environment { DB_PASSWORD = "s3cret 'quoted' $HOME" }
                  }
                  ssh { user = "%s", identity-files = ["%s"], known-hosts = "%s" }
                }
                """
                        .formatted(seen, host.user(), host.clientKey(), host.knownHosts()));
        RemoteScheduler remote = new RemoteScheduler(
                ssh, new SettingsLoader(dir, () -> "a").load(conf).scheduler());

        RemoteScheduler.Invocation start = remote.startInvocation(target(), 1);
        assertFalse(start.command().contains("s3cret"), start.command());
        remote.start(target(), 1);

        await().atMost(WAIT).until(() -> Files.exists(seen) && Files.size(seen) > 0);
        assertEquals(
                "s3cret 'quoted' $HOME " + target().node(),
                Files.readString(seen),
                "passed as is, not expanded; with asfc's mark");
        assertFalse(start.command().contains("ASFC_NODE="), start.command());
        assertTrue(host.processes().stream().noneMatch(p -> p.cmdline().contains("s3cret")));
    }

    /**
     * The race of a deposed leader's start: leader 5 passed its fenced proof and sent a start that
     * is delayed; leader 6 host-stops the node (nothing runs yet) and places the scheduler
     * elsewhere; then leader 5's start arrives. It must not land.
     */
    @Test
    void aDeposedLeadersDelayedStartDoesNotLandAfterTheNewLeadersHostStop() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        assertEquals(6, remote.fence(target(), 6)); // leader 6's host stop: the fence, then the stop
        remote.stopAll(target()); // nothing to stop yet

        StaleEpochException refused = assertThrows(StaleEpochException.class, () -> remote.start(target(), 5));

        assertEquals(6, refused.recorded());
        assertEquals(SshException.Reason.REFUSED, refused.reason());
        assertFalse(refused.unreachable(), "a refusal is an answer, not an outage");
        assertTrue(refused.getMessage().contains("epoch 5 < recorded 6"), refused.getMessage());
        assertFalse(remote.look(target()).anyMatch(), "the stale start did not land");
        assertTrue(standIns().isEmpty());
    }

    @Test
    void aStartAtTheRecordedOrANewerEpochRunsAndRecordsIt() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        remote.fence(target(), 6);
        assertTrue(remote.start(target(), 6) > 0, "equal: the same leader's own stop, then its start");
        remote.stopAll(target());
        assertTrue(remote.start(target(), 7) > 0, "newer");
        assertEquals("7", token().trim());
        // the scheduler does not inherit the lock: a fence after a start does not wait for it to end
        long before = System.nanoTime();
        assertEquals(7, remote.fence(target(), 3), "a fence never lowers the token");
        assertTrue(System.nanoTime() - before < Duration.ofSeconds(5).toNanos(), "the fence waited for the lock");
        remote.stopAll(target());
    }

    @Test
    void aMissingOrGarbledTokenReadsAsZero() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        assertEquals(1, remote.fence(target(), 1), "missing: 0, then 1 recorded");
        for (String garbage : List.of("", "garbage\n", "-9\n", "12x\n", "99999999999999999999999\n")) {
            Files.writeString(tokenDir().resolve("epoch"), garbage);
            assertEquals(2, remote.fence(target(), 2), () -> "after " + garbage);
            Files.writeString(tokenDir().resolve("epoch"), garbage);
            assertTrue(remote.start(target(), 1) > 0, () -> "after " + garbage);
            remote.stopAll(target());
        }
    }

    @Test
    void anUnwritableTokenRefusesTheStartButNeverTheStop() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        remote.fence(target(), 4);
        // the new token cannot be written (a directory in the way: a full disk fails the same way)
        Files.createDirectories(tokenDir().resolve("epoch.new"));

        SshException start = assertThrows(SshException.class, () -> remote.start(target(), 5));
        assertFalse(start instanceof StaleEpochException, start.getMessage());
        assertTrue(start.getMessage().contains("cannot write"), start.getMessage());
        assertFalse(remote.look(target()).anyMatch(), "nothing started");
        assertEquals(4, remote.fence(target(), 4), "nothing to write: the token stands");
        SshException fence = assertThrows(SshException.class, () -> remote.fence(target(), 5));
        assertTrue(fence.getMessage().contains("cannot write"), fence.getMessage());

        host.startByHand(standIn.byHand("c"));
        await().atMost(WAIT).until(() -> remote.look(target()), RemoteScheduler.Look::running);
        assertTrue(remote.stopAll(target()).signalled() > 0, "the stop still stops");
        await().atMost(WAIT).until(() -> standIns().isEmpty());
    }

    @Test
    void aStartWaitsForTheLockAFenceHolds() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        remote.fence(target(), 1);
        // another command holds the host's lock (as a concurrent fence would): the start waits, then
        // reads the token that command recorded
        Process holder = host.runInside(
                "sh",
                "-c",
                "exec 9>>" + tokenDir().resolve("lock") + "; flock 9; echo held; sleep 2; echo 9 > "
                        + tokenDir().resolve("epoch"));
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()))) {
            assertEquals("held", out.readLine());
            StaleEpochException refused = assertThrows(StaleEpochException.class, () -> remote.start(target(), 8));
            assertEquals(9, refused.recorded());
        } finally {
            holder.destroy();
        }
        assertFalse(remote.look(target()).anyMatch());
    }

    private Path tokenDir() {
        return host.home().resolve(RemoteScheduler.tokenDir("default"));
    }

    private String token() throws Exception {
        return Files.readString(tokenDir().resolve("epoch"));
    }

    @Test
    void startsADetachedSchedulerOnAnAgentlessHost() throws Exception {
        RemoteScheduler remote = remote("airflow scheduler");
        long pid = remote.start(target(), 1);
        assertTrue(pid > 0);
        RemoteScheduler.Look look =
                await().atMost(WAIT).until(() -> remote.look(target()), RemoteScheduler.Look::running);
        assertTrue(look.describe().contains("airflow scheduler"), look.describe());
        remote.stopAll(target());
        assertFalse(remote.look(target()).running());
    }

    @Test
    void everyOperationTellsHowItEndedOnceWhateverItDidInside() throws Exception {
        List<String> ended = new ArrayList<>();
        RemoteScheduler remote = new RemoteScheduler(
                ssh, settings("airflow scheduler").scheduler(), (op, ok) -> ended.add(op.label() + "=" + ok));

        remote.probe(target());
        remote.look(target());
        remote.stopAll(target()); // looks, finds nothing: one stop, not a look and a stop
        SshTarget closed = new SshTarget("c", "127.0.0.1", host.user(), 1);
        assertThrows(SshException.class, () -> remote.look(closed));

        assertEquals(List.of("probe=true", "look=true", "stop=true", "look=false"), ended);
    }
}
