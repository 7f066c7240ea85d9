package io.asfc.common.process;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real process trees, stopped the way the supervisor stops a scheduler. */
class TreeStopperTest {
    /** A child that makes itself a process-group leader, then runs "sleep 302" as its own child. */
    private static final String OWN_GROUP =
            "python3 -c 'import os, subprocess; os.setpgrp();" + " subprocess.run([\"sleep\", \"302\"])'";

    private final List<Process> started = new ArrayList<>();
    private final TreeStopper stopper = new TreeStopper(System::nanoTime);

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /**
     * A session leader with a plain child, a child in its own process group that has a child of
     * its own (like Airflow's DagFileProcessorManager), and a child that moved to a new session.
     */
    private static final String TREE = "sleep 301 & " + OWN_GROUP + " & setsid sleep 303 & sleep 300";

    @Test
    void treeHoldsChildrenInOtherProcessGroupsSessionsAndGrandchildren() throws Exception {
        Process root = start(TREE);
        await().atMost(Duration.ofSeconds(5)).until(() -> hasAll(root.pid()));

        Set<ProcessInfo> tree = ProcessTable.snapshot().tree(root.pid());
        Set<Long> groups = tree.stream().map(ProcessInfo::pgid).collect(Collectors.toSet());
        Set<Long> sessions = tree.stream().map(ProcessInfo::sid).collect(Collectors.toSet());

        assertTrue(groups.size() >= 3, "expected several process groups: " + tree);
        assertTrue(sessions.size() >= 2, "expected the setsid child in its own session: " + tree);
    }

    @Test
    void treeOfACrashedSessionLeaderStillHoldsItsSession() throws Exception {
        Process root = start(TREE);
        await().atMost(Duration.ofSeconds(5)).until(() -> hasAll(root.pid()));

        root.destroyForcibly().waitFor(); // the leader dies; its children live on in its session

        Set<ProcessInfo> tree = ProcessTable.snapshot().tree(root.pid());
        assertTrue(
                tree.stream()
                        .map(ProcessInfo::cmdline)
                        .toList()
                        .containsAll(List.of("sleep 300", "sleep 301", "sleep 302")),
                tree::toString);
    }

    @Test
    void stopTerminatesTheWholeTree() throws Exception {
        Process root = start(TREE);
        await().atMost(Duration.ofSeconds(5)).until(() -> hasAll(root.pid()));
        Set<ProcessInfo> tree = ProcessTable.snapshot().tree(root.pid());

        TreeStopper.Result result = stopper.stop(tree, Duration.ofSeconds(5));

        assertTrue(result.stopped(), result::toString);
        assertEquals(0, result.killed(), "everything obeyed SIGTERM: " + result);
        assertTrue(tree.stream().noneMatch(TreeStopper::isAlive));
    }

    @Test
    void processesThatIgnoreTermAreKilledAfterTheTimeout() throws Exception {
        Process root = start("trap '' TERM; sh -c \"trap '' TERM; sleep 300\" & wait");
        await().atMost(Duration.ofSeconds(5)).until(() -> commands(root.pid()).size() >= 3);
        Set<ProcessInfo> tree = ProcessTable.snapshot().tree(root.pid());

        TreeStopper.Result result = stopper.stop(tree, Duration.ofMillis(300));

        assertTrue(result.stopped(), result::toString);
        assertTrue(result.killed() >= 2, "the TERM-ignoring shells needed SIGKILL: " + result);
    }

    @Test
    void aReusedPidIsNeverSignalled() throws Exception {
        Process root = start("sleep 300");
        ProcessInfo real = ProcessTable.read(root.pid()).orElseThrow();
        ProcessInfo impostor = new ProcessInfo(
                real.pid(), real.ppid(), real.pgid(), real.sid(), 'S', real.startTicks() + 1, real.cmdline());

        TreeStopper.Result result = stopper.stop(List.of(impostor), Duration.ofMillis(100));

        assertTrue(result.stopped());
        assertTrue(root.isAlive(), "a process with another start time must be left alone");
    }

    private Process start(String script) throws IOException {
        Process p = new ProcessBuilder("setsid", "sh", "-c", script)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(new File("/dev/null"))
                .start();
        started.add(p);
        return p;
    }

    private static boolean hasAll(long root) {
        return commands(root).containsAll(List.of("sleep 300", "sleep 301", "sleep 302", "sleep 303"));
    }

    private static List<String> commands(long root) {
        return ProcessTable.snapshot().tree(root).stream()
                .map(ProcessInfo::cmdline)
                .toList();
    }
}
