package io.asfc.agent.testing;

import io.asfc.agent.Agent;
import io.asfc.agent.AgentDirs;
import io.asfc.agent.zk.ZkClients;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.SettingsLoader;
import io.asfc.common.testing.StandIn;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * Starts real {@link Agent}s against a test ZooKeeper with short timings, remembers each one's
 * Curator client (for fault injection), and reads the cluster state back with its own client.
 */
public final class TestAgents implements Closeable {
    public static final Duration SESSION = Duration.ofSeconds(4);
    public static final Duration HEARTBEAT = Duration.ofMillis(200);

    private final Path dir;
    private final String connect;
    private final Duration session;
    private final Map<String, Agent> agents = new ConcurrentHashMap<>();
    /** Every agent ever started here, so that close() closes each even if a test lost track of one. */
    private final List<Agent> created = new CopyOnWriteArrayList<>();

    private final List<AgentProcess> processes = new CopyOnWriteArrayList<>();

    private final Map<String, CuratorFramework> clients = new ConcurrentHashMap<>();
    private final CuratorFramework observer;
    private final ZkPaths paths = new ZkPaths("/airflow/failover", "default");

    public TestAgents(Path dir, String connect) {
        this(dir, connect, SESSION);
    }

    public TestAgents(Path dir, String connect, Duration session) {
        this.dir = dir;
        this.connect = connect;
        this.session = session;
        this.observer = CuratorFrameworkFactory.newClient(connect, 30_000, 5_000, new RetryOneTime(100));
        observer.start();
    }

    public ZkPaths paths() {
        return paths;
    }

    public CuratorFramework observer() {
        return observer;
    }

    public Duration session() {
        return session;
    }

    public AsfcSettings settings(String node, String connectString) {
        return settings(node, connectString, "");
    }

    /** Settings with {@code extra} HOCON appended (it overrides the defaults above it). */
    public AsfcSettings settings(String node, String connectString, String extra) {
        try {
            return new SettingsLoader(dir, () -> node).load(confFile(node, connectString, extra));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The HOCON of {@link #settings(String, String, String)}. */
    private String conf(String node, String connectString, String extra) {
        return """
                asfc {
                  node.id = %s
                  nodes = [a, b, c, d]
                  zookeeper {
                    connect = "%s"
                    session-timeout = %dms
                    self-fence-after = %dms
                    connection-timeout = 2s
                  }
                  controller.heartbeat-interval = %dms
                  scheduler.start-command = "exec sleep 600"
                  scheduler.self-fence-stop-timeout = 1s
                  # Tests share this machine's pid namespace with other tests' stand-ins (other runs,
                  # other checkouts), which the default process-pattern matches: report them, never stop
                  # them. The tests of the foreign sweep set stop, with a pattern of their own.
                  scheduler.foreign = alert
                  ssh.enabled = false
                }
                """
                        .formatted(
                                node, connectString, session.toMillis(), session.toMillis() / 2, HEARTBEAT.toMillis())
                + extra;
    }

    /** Writes the config of {@link #settings(String, String, String)} to a file of its own. */
    private Path confFile(String node, String connectString, String extra) throws IOException {
        Path file = dir.resolve(node + "-" + System.nanoTime() + ".conf");
        Files.writeString(file, conf(node, connectString, extra));
        return file;
    }

    /** Starts an agent connected directly to ZooKeeper. */
    public Agent start(String node) {
        return start(node, connect);
    }

    /** Starts an agent whose ZooKeeper connection goes through {@code connectString} (e.g. a proxy). */
    public Agent start(String node, String connectString) {
        return start(node, connectString, "");
    }

    /**
     * Starts an agent with extra HOCON config, e.g. a scheduler start-command. An agent that fails to start is
     * closed at once, and does not take the place of a running agent with the same node id: that one would otherwise
     * never be closed, and would go on running (and logging) through every later test in this JVM.
     */
    public Agent start(String node, String connectString, String extra) {
        CuratorFramework previousClient = clients.get(node);
        Agent agent = new Agent(
                settings(node, connectString, extra),
                new AgentDirs(dir.resolve("logs"), dir.resolve("run")),
                (zk, id) -> {
                    CuratorFramework client = ZkClients.start(zk, id);
                    clients.put(node, client);
                    return client;
                },
                Clock.systemUTC());
        Agent previous = agents.put(node, agent); // before start(): close() must reach an agent still starting
        created.add(agent);
        try {
            agent.start();
        } catch (RuntimeException | Error e) {
            CloseableUtils.closeQuietly(agent);
            agents.remove(node, agent);
            if (previous != null) {
                agents.putIfAbsent(node, previous);
                clients.put(node, previousClient);
            }
            throw e;
        }
        return agent;
    }

    /**
     * Starts node {@code node} as a real agent process of its own ({@link AgentProcess}), with the same config as
     * {@link #start(String, String, String)}: for tests whose fault is the agent's death (kill -9) or freeze
     * (SIGSTOP). {@link #close()} kills it if the test did not.
     */
    public AgentProcess startProcess(String node, String connectString, String extra) {
        try {
            AgentProcess process = AgentProcess.start(node, confFile(node, connectString, extra), dir);
            processes.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Expires node {@code node}'s ZooKeeper session at the server, at once, as the server does when the session
     * times out: a second handle joins the session with its id and password and closes it. The agent itself runs on
     * (a deposed leader, a frozen-then-thawed agent): it learns of the expiry only from its client, as in production.
     */
    public void expireSession(String node) throws Exception {
        ZooKeeper victim = client(node).getZookeeperClient().getZooKeeper();
        CountDownLatch joined = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(
                connect,
                (int) session.toMillis(),
                event -> {
                    if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        joined.countDown();
                    }
                },
                victim.getSessionId(),
                victim.getSessionPasswd());
        try {
            if (!joined.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("could not join " + node + "'s session to expire it");
            }
        } finally {
            twin.close(); // closes the session at the server: its ephemeral nodes go at once
        }
    }

    public String connect() {
        return connect;
    }

    public Agent agent(String node) {
        return agents.get(node);
    }

    public CuratorFramework client(String node) {
        return clients.get(node);
    }

    /** Closes one agent gracefully, as SIGTERM does. */
    public void stop(String node) {
        CloseableUtils.closeQuietly(agents.remove(node));
    }

    public Optional<io.asfc.common.zk.Assignment> assignment() throws Exception {
        return read(paths.scheduler(), io.asfc.common.zk.Assignment.class);
    }

    public Optional<AgentRecord> agentRecord(String node) throws Exception {
        return read(paths.agent(node), AgentRecord.class);
    }

    public Optional<ActiveRecord> active() throws Exception {
        return read(paths.active(), ActiveRecord.class);
    }

    /** The control znode: pause flag and the last operator request with its result. */
    /** Sets {@code control.paused}: while paused no agent starts or stops anything and the leader moves nothing. */
    public void pause(boolean paused) throws Exception {
        io.asfc.agent.cluster.ControlWriter.update(observer, paths, c -> c.withPaused(paused));
    }

    /** How many agents take part in the election (children of the leader latch). */
    public int candidates() throws Exception {
        org.apache.zookeeper.data.Stat stat = observer.checkExists().forPath(paths.leader());
        return stat == null ? 0 : stat.getNumChildren();
    }

    /**
     * True when exactly one stand-in main runs, on {@code node}, which is assigned and whose agent
     * reports it running.
     */
    public boolean runsOnlyOn(StandIn standIn, String node) throws Exception {
        List<io.asfc.common.process.ProcessInfo> mains =
                standIn.mainProcesses(io.asfc.common.process.ProcessTable.snapshot());
        return mains.size() == 1
                && StandIn.node(mains.get(0)).equals(node)
                && assignment().map(x -> node.equals(x.node())).orElse(false)
                && agentRecord(node).map(r -> r.scheduler().running()).orElse(false);
    }

    public Optional<io.asfc.common.zk.ControlRecord> control() throws Exception {
        return read(paths.control(), io.asfc.common.zk.ControlRecord.class);
    }

    public long epoch() throws Exception {
        var stat = observer.checkExists().forPath(paths.epoch());
        return stat == null ? 0 : stat.getVersion();
    }

    /** Live agents' records, by what they publish in agents/. */
    public List<AgentRecord> published() throws Exception {
        List<AgentRecord> result = new ArrayList<>();
        try {
            for (String node : observer.getChildren().forPath(paths.agents())) {
                read(paths.agent(node), AgentRecord.class).ifPresent(result::add);
            }
        } catch (KeeperException.NoNodeException e) {
            // no agent has registered yet
        }
        return result;
    }

    /** The node named ACTIVE by both the active znode and exactly one agent's own record. */
    public Optional<String> soleActive() throws Exception {
        Optional<ActiveRecord> active = active();
        List<String> claiming = published().stream()
                .filter(a -> a.role() == AgentRecord.Role.ACTIVE)
                .map(AgentRecord::node)
                .toList();
        if (active.isPresent() && claiming.equals(List.of(active.get().node()))) {
            return Optional.of(active.get().node());
        }
        return Optional.empty();
    }

    private <T> Optional<T> read(String path, Class<T> type) throws Exception {
        try {
            return Json.decode(path, observer.getData().forPath(path), type);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        created.forEach(CloseableUtils::closeQuietly); // Agent.close() is idempotent
        processes.forEach(CloseableUtils::closeQuietly);
        agents.clear();
        CloseableUtils.closeQuietly(observer);
    }
}
