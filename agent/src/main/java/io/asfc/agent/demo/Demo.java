package io.asfc.agent.demo;

import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterSnapshot;
import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.events.EventLog;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;

/**
 * {@code asfc-agent demo}: a live view of a three-agent cluster on this machine, where the user
 * kills the ACTIVE agent or the scheduler (keys, or the printed kill commands) and watches asfc
 * recover.
 */
public final class Demo implements Closeable {
    private static final String CLEAR = "\033[H\033[2J";
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
    private static final long REFRESH_MS = 500;

    private final DemoCluster cluster;
    private final CuratorFramework client;
    private final ZkPaths paths = new ZkPaths("/airflow/failover", "default");
    private final List<String> notes = new ArrayList<>();
    private boolean closed;

    public Demo(Path dir, Path standIn) {
        this.cluster = new DemoCluster(dir, standIn);
        this.client = CuratorFrameworkFactory.newClient(
                cluster.connect(), 10_000, 3_000, new BoundedExponentialBackoffRetry(100, 1000, 3));
    }

    /** Runs until "q" arrives on {@code input} (or the thread is interrupted, as by Ctrl-C). */
    public void run(PrintWriter out, BlockingQueue<String> input) throws IOException, InterruptedException {
        out.println("asfc demo: starting an embedded ZooKeeper and 3 agents in " + cluster.dir() + " ...");
        out.flush();
        cluster.start();
        client.start();
        while (true) {
            render(out);
            String line = input.poll(REFRESH_MS, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            String key = line.trim().toLowerCase();
            if (key.equals("q")) {
                return;
            }
            act(key);
        }
    }

    private void act(String key) throws IOException {
        ClusterSnapshot s = new ClusterReader(client, paths, "default", Clock.systemUTC()).read();
        switch (key) {
            case "a" -> {
                Optional<Long> pid = s.active() == null
                        ? Optional.empty()
                        : cluster.agentPid(s.active().node());
                pid.ifPresentOrElse(
                        p -> {
                            ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
                            note("killed (-9) the ACTIVE agent " + s.active().node() + ", pid " + p);
                        },
                        () -> note("no ACTIVE agent to kill right now"));
            }
            case "s" -> {
                Optional<Long> pid = schedulerPid(s);
                pid.ifPresentOrElse(
                        p -> {
                            ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
                            note("killed (-9) the scheduler, pid " + p);
                        },
                        () -> note("no scheduler runs right now"));
            }
            case "f" -> {
                ControlWriter.update(
                        client,
                        paths,
                        c -> c.withRequest(
                                "",
                                UUID.randomUUID().toString(),
                                Clock.systemUTC().instant()));
                note("asked the ACTIVE controller to move the scheduler to the next node");
            }
            case "r" -> {
                for (String node : DemoCluster.NODES) {
                    if (cluster.restart(node)) {
                        note("restarted the agent of " + node);
                    }
                }
            }
            default -> note("unknown key '" + key + "': use a, s, f, r or q, then Enter");
        }
    }

    private Optional<Long> schedulerPid(ClusterSnapshot s) {
        return s.agents().stream()
                .filter(a -> a.record() != null && a.record().scheduler().running())
                .findFirst()
                .flatMap(a -> Optional.ofNullable(a.record().scheduler().pid()))
                .flatMap(DemoCluster::schedulerMain)
                .map(p -> p.pid());
    }

    private void render(PrintWriter out) {
        StringBuilder b = new StringBuilder(CLEAR);
        b.append("asfc demo: 3 agents with stand-in Airflow schedulers; embedded ZooKeeper on ")
                .append(cluster.connect())
                .append('\n');
        b.append("files in ").append(cluster.dir()).append(" (removed when the demo ends)\n\n");
        try {
            ClusterSnapshot s = new ClusterReader(client, paths, "default", Clock.systemUTC()).read();
            b.append(String.format(
                    "ACTIVE controller  %s%n",
                    s.active() == null
                            ? "none (electing...)"
                            : s.active().node() + " (epoch " + s.active().epoch() + ")"));
            b.append(String.format(
                    "scheduler          %s%n%n",
                    s.scheduler() == null
                            ? "not assigned yet"
                            : (s.scheduler().node() == null
                                            ? "nobody (moving)"
                                            : "assigned to " + s.scheduler().node()) + ": "
                                    + s.scheduler().reason()));
            b.append(String.format("%-5s %-14s %-8s %s%n", "NODE", "AGENT", "ROLE", "SCHEDULER"));
            for (String node : DemoCluster.NODES) {
                var agent =
                        s.agents().stream().filter(a -> a.node().equals(node)).findFirst();
                String role = agent.map(a ->
                                a.record() == null ? "?" : a.record().role().name())
                        .orElse("-");
                String scheduler = agent.map(a ->
                                a.record() == null ? "?" : describe(a.record().scheduler()))
                        .orElse("-");
                String pid = cluster.agentPid(node).map(p -> "pid " + p).orElse("(not running)");
                b.append(String.format("%-5s %-14s %-8s %s%n", node, pid, role, scheduler));
            }
            b.append("\nlatest events\n");
            for (EventLog.Stored e : new EventLog(client, paths, "demo", 1000, Clock.systemUTC()).recent(8)) {
                b.append(String.format(
                        "  %s  %-2s %-22s %s%n",
                        TIME.format(e.event().at()),
                        e.event().node(),
                        e.event().type(),
                        e.event().detail()));
            }
            b.append("\nkeys, then Enter:  a = kill -9 the ACTIVE agent   s = kill -9 the scheduler\n");
            b.append("                   f = failover   r = restart killed agents   q = quit (or Ctrl-C)\n");
            Optional<Long> activePid = s.active() == null
                    ? Optional.empty()
                    : cluster.agentPid(s.active().node());
            Optional<Long> schedulerPid = schedulerPid(s);
            if (activePid.isPresent() || schedulerPid.isPresent()) {
                b.append("or from another shell:");
                activePid.ifPresent(p -> b.append("  kill -9 ").append(p).append("  (ACTIVE agent)"));
                schedulerPid.ifPresent(p -> b.append("  kill -9 ").append(p).append("  (scheduler)"));
                b.append('\n');
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            b.append("(reading ZooKeeper: ").append(e.getMessage()).append(")\n");
        }
        for (String note : notes) {
            b.append("> ").append(note).append('\n');
        }
        out.print(b);
        out.flush();
    }

    private static String describe(io.asfc.common.zk.AgentRecord.SchedulerState st) {
        if (!st.running()) {
            return st.failures() > 0 ? "stopped (" + st.failures() + " failures)" : "-";
        }
        return "RUNNING" + (st.healthy() ? "" : " (unhealthy)");
    }

    private void note(String text) {
        notes.add(TIME.format(Clock.systemUTC().instant()) + " " + text);
        if (notes.size() > 4) {
            notes.remove(0);
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
        cluster.close();
    }

    /** Idempotent cleanup for the shutdown hook and the normal end alike. */
    public synchronized void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            close();
        } catch (IOException | RuntimeException e) {
            System.err.println("asfc demo: cleanup incomplete: " + e.getMessage());
        }
    }
}
