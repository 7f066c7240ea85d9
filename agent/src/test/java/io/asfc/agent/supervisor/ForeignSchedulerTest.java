package io.asfc.agent.supervisor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.Agent;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.MetricsPage;
import io.asfc.agent.testing.TestAgents;
import io.asfc.common.config.S4Budget;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.AgentRecord;
import java.io.File;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a second scheduler on the holder's host that asfc did not start (by hand, here) is
 * stopped, or only reported with {@code foreign = alert}; the supervised one keeps its pid. An agent
 * restarted while its scheduler runs adopts it, or stops it, never runs a second one. Real
 * ZooKeeper, real processes (the stand-in), child mode; the process-pattern matches only this
 * test's stand-ins, so nothing else on the machine is ever touched.
 */
class ForeignSchedulerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private TestingServer server;
    private TestAgents agents;
    private StandIn standIn;
    private final List<Process> byHand = new ArrayList<>();
    private final List<ChildRunner> predecessors = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestingServer(true);
        agents = new TestAgents(dir, server.getConnectString());
        standIn = new StandIn(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agents.close();
        for (ChildRunner runner : predecessors) {
            runner.stop();
        }
        byHand.forEach(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
        byHand.forEach(Process::destroyForcibly);
        standIn.killAll();
        server.close();
    }

    /** This test's stand-ins only: the main processes whose tick file is in this test's directory. */
    private String config(String foreign, String more) {
        String pattern = "^airflow scheduler .*--tick-file "
                + Pattern.quote(dir.resolve("ticks").toString());
        return StandIn.FAST_TIMINGS + standIn.config("a", "") + "\nasfc.scheduler { foreign = " + foreign
                + ", process-pattern = \"\"\"" + pattern + "\"\"\" }\n" + more;
    }

    @Test
    void aSchedulerStartedByHandIsStoppedAndTheSupervisedOneKeepsItsPid() throws Exception {
        Agent agent = agents.start("a", server.getConnectString(), config("stop", MetricsPage.HTTP));
        ProcessInfo supervised = awaitSupervised();

        ProcessInfo hand = startByHand("hand");

        await().atMost(WAIT).until(() -> !TreeStopper.isAlive(hand));
        await().atMost(WAIT).until(() -> hasEvent("foreign-scheduler", "pid " + hand.pid() + " (airflow scheduler"));
        assertTrue(TreeStopper.isAlive(supervised), "the supervised scheduler runs on");
        assertEquals(
                supervised.pid(),
                agents.agentRecord("a").orElseThrow().scheduler().pid());
        assertEquals(List.of(supervised.pid()), mainPids());
        MetricsPage page = MetricsPage.scrape(agent);
        assertEquals(1, page.value("asfc_foreign_schedulers_total{action=\"stopped\"}"), page::text);
        assertEquals(0, page.value("asfc_foreign_schedulers_total{action=\"alerted\"}"), page::text);
    }

    @Test
    void inCommandModeASecondSchedulerIsStoppedAndTheOneItsStartCommandStartedKeepsItsPid() throws Exception {
        // a start-command that daemonizes with a pid file, as "airflow scheduler -D --pid FILE" does
        Path pidFile = dir.resolve("a.pid");
        String command = "\nasfc.scheduler { mode = command, pid-file = \"" + pidFile
                + "\", start-command = \"\"\"exec " + standIn.byHand("a") + " --daemon --pid-file " + pidFile
                + "\"\"\" }\n";
        agents.start("a", server.getConnectString(), config("stop", command));
        ProcessInfo supervised = awaitSupervised();

        ProcessInfo hand = startByHand("hand");

        await().atMost(WAIT).until(() -> !TreeStopper.isAlive(hand));
        await().atMost(WAIT).until(() -> hasEvent("foreign-scheduler", "pid " + hand.pid() + " (airflow scheduler"));
        assertTrue(TreeStopper.isAlive(supervised), "the supervised scheduler runs on");
        assertEquals(List.of(supervised.pid()), mainPids());
    }

    @Test
    void withAlertItIsOnlyReported() throws Exception {
        Agent agent = agents.start("a", server.getConnectString(), config("alert", MetricsPage.HTTP));
        ProcessInfo supervised = awaitSupervised();

        ProcessInfo hand = startByHand("hand");

        await().atMost(WAIT).until(() -> hasEvent("foreign-scheduler", "pid " + hand.pid() + " (airflow scheduler"));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> TreeStopper.isAlive(hand));
        assertTrue(TreeStopper.isAlive(supervised));
        assertEquals(1, events("foreign-scheduler"), "reported once");
        MetricsPage page = MetricsPage.scrape(agent);
        assertEquals(1, page.value("asfc_foreign_schedulers_total{action=\"alerted\"}"), page::text);
        assertEquals(0, page.value("asfc_foreign_schedulers_total{action=\"stopped\"}"), page::text);
    }

    @Test
    void anAgentRestartedWhileItsSchedulerRunsAdoptsIt() throws Exception {
        String keep = "asfc.scheduler.stop-with-agent = false\n";
        agents.start("a", server.getConnectString(), config("stop", keep));
        awaitSupervised();
        agents.stop("a"); // stops its scheduler; the assignment still names a (no other agent moves it)
        await().atMost(WAIT).until(() -> mainPids().isEmpty());

        // the agent was killed while its scheduler ran: what it left, with its session file
        ProcessInfo left = startAsPredecessor(
                keep, new io.asfc.agent.AgentDirs(dir.resolve("logs"), dir.resolve("run")).schedulerSession("a"));
        agents.start("a", server.getConnectString(), config("stop", keep));

        await().atMost(WAIT).until(() -> agents.agentRecord("a")
                .map(AgentRecord::scheduler)
                .map(s -> s.running() && Long.valueOf(left.pid()).equals(s.pid()))
                .orElse(false));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> mainPids()
                .equals(List.of(left.pid())));
    }

    @Test
    void anAgentThatLostItsSessionFileStopsWhatItsPredecessorLeftBeforeStartingItsOwn() throws Exception {
        String keep = "asfc.scheduler.stop-with-agent = false\n";
        ProcessInfo left = startAsPredecessor(keep, dir.resolve("lost/scheduler-a.session"));

        agents.start("a", server.getConnectString(), config("stop", keep));

        await().atMost(WAIT).until(() -> !TreeStopper.isAlive(left));
        ProcessInfo own = awaitSupervised();
        assertTrue(own.pid() != left.pid());
        assertTrue(hasEvent("foreign-scheduler", "pid " + left.pid()));
    }

    private ProcessInfo awaitSupervised() throws Exception {
        await().atMost(WAIT)
                .until(() -> agents.agentRecord("a")
                                .map(r -> r.scheduler().running())
                                .orElse(false)
                        && mainPids().size() == 1);
        return standIn.mainProcesses(ProcessTable.snapshot()).get(0);
    }

    private List<Long> mainPids() {
        return standIn.mainProcesses(ProcessTable.snapshot()).stream()
                .map(ProcessInfo::pid)
                .toList();
    }

    /** A stand-in started as an operator would, in its own session, without asfc's mark. */
    private ProcessInfo startByHand(String host) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("setsid", "/bin/sh", "-c", "exec " + standIn.byHand(host))
                .redirectInput(new File("/dev/null"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("by-hand.out").toFile()));
        builder.environment().remove(ProcessOrigin.VARIABLE);
        Process p = builder.start();
        byHand.add(p);
        return await().atMost(WAIT)
                .until(() -> ProcessTable.read(p.pid()), Optional::isPresent)
                .orElseThrow();
    }

    /** The scheduler an earlier agent of a started (marked a), recorded in {@code sessionFile}. */
    private ProcessInfo startAsPredecessor(String more, Path sessionFile) throws Exception {
        var settings = agents.settings("a", server.getConnectString(), config("stop", more));
        SchedulerSettings scheduler = settings.scheduler();
        ChildRunner runner = new ChildRunner(
                "a",
                scheduler,
                S4Budget.of(settings).deadman(),
                sessionFile,
                dir.resolve("logs/predecessor.out"),
                new TreeStopper(System::nanoTime),
                Clock.systemUTC());
        predecessors.add(runner);
        runner.start();
        long pid = runner.status().pid();
        return await().atMost(WAIT)
                .until(() -> ProcessTable.read(pid), Optional::isPresent)
                .orElseThrow();
    }

    private boolean hasEvent(String type, String detailPart) {
        return new EventLog(agents.observer(), agents.paths(), "observer", 1000, Clock.systemUTC())
                .recent(1000).stream()
                        .anyMatch(e -> e.event().type().equals(type)
                                && e.event().detail().contains(detailPart));
    }

    private long events(String type) {
        return new EventLog(agents.observer(), agents.paths(), "observer", 1000, Clock.systemUTC())
                .recent(1000).stream()
                        .filter(e -> e.event().type().equals(type))
                        .count();
    }
}
