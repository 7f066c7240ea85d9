package io.asfc.it;

import io.asfc.agent.Agent;
import io.asfc.agent.AgentDirs;
import io.asfc.agent.zk.ZkClients;
import io.asfc.common.config.SettingsLoader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * TEST-ONLY: many real {@link Agent}s in this one JVM, for benchmarks that need more agents than this machine can run
 * as processes (issue 19's scale benchmark: up to 50 clusters of 5). Each agent is the product's own {@code Agent},
 * built from a config file of its own through the product's {@link SettingsLoader} (so {@code reference.conf}'s
 * defaults apply to everything the file does not set), with its own Curator client and ZooKeeper session, its own
 * log and run directories, and its own scheduler child process. What they share is what a JVM shares: the heap, the
 * JIT, the logging configuration. A deployment runs one agent per JVM ({@code bin/asfc-agent}); nothing in the
 * product supports or needs this mode, and only the benchmarks use it.
 */
final class InProcessAgents implements Closeable {

    private final Path dir;
    private final Map<String, Agent> agents = new ConcurrentHashMap<>();
    private final Map<String, CuratorFramework> clients = new ConcurrentHashMap<>();
    private final Map<String, String> connects = new ConcurrentHashMap<>();
    private final AtomicInteger suspended = new AtomicInteger();
    private final AtomicInteger lost = new AtomicInteger();

    InProcessAgents(Path dir) {
        this.dir = dir;
    }

    /** The config file of one agent: {@code hocon} is written as it is. */
    Path writeConf(String cluster, String node, String hocon) throws IOException {
        Path home = Files.createDirectories(dir.resolve(cluster).resolve(node));
        Path conf = home.resolve("asfc.conf");
        Files.writeString(conf, hocon, StandardCharsets.UTF_8);
        return conf;
    }

    /**
     * Builds and starts one agent from {@code conf}; returns once it is registered and running for election (as
     * {@link Agent#start()}).
     */
    Agent start(String cluster, String node, Path conf) {
        String key = key(cluster, node);
        Path home = conf.getParent();
        var settings = new SettingsLoader(home, () -> node).load(conf);
        connects.put(key, settings.zookeeper().effectiveConnect());
        Agent agent = new Agent(
                settings,
                new AgentDirs(home.resolve("logs"), home.resolve("run")),
                (zk, id) -> {
                    CuratorFramework client = ZkClients.start(zk, id);
                    client.getConnectionStateListenable().addListener((c, state) -> {
                        if (state == ConnectionState.SUSPENDED) {
                            suspended.incrementAndGet();
                        } else if (state == ConnectionState.LOST) {
                            lost.incrementAndGet();
                        }
                    });
                    clients.put(key, client);
                    return client;
                },
                Clock.systemUTC());
        agents.put(key, agent);
        agent.start();
        return agent;
    }

    /** Connection losses (Curator's SUSPENDED) seen by all agents so far. */
    int suspensions() {
        return suspended.get();
    }

    /** Lost sessions (Curator's LOST) seen by all agents so far. */
    int losses() {
        return lost.get();
    }

    int size() {
        return agents.size();
    }

    /**
     * Expires the agent's ZooKeeper session at the server, at once, as the server does when a session times out: a
     * second handle joins the session with its id and password and closes it (its ephemeral nodes go at once). The
     * agent runs on and learns of the expiry from its own client, as in production.
     *
     * @return {@link System#nanoTime()} just before the session was closed
     */
    long expireSession(String cluster, String node) throws Exception {
        String key = key(cluster, node);
        ZooKeeper victim = clients.get(key).getZookeeperClient().getZooKeeper();
        CountDownLatch joined = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(
                connects.get(key),
                victim.getSessionTimeout(),
                event -> {
                    if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        joined.countDown();
                    }
                },
                victim.getSessionId(),
                victim.getSessionPasswd());
        if (!joined.await(30, TimeUnit.SECONDS)) {
            twin.close();
            throw new AssertionError("could not join " + key + "'s session to expire it");
        }
        long before = System.nanoTime();
        twin.close();
        return before;
    }

    /** Closes every agent (as SIGTERM does: each stops its scheduler), {@code parallelism} at a time. */
    @Override
    public void close() {
        closeAll(8);
    }

    void closeAll(int parallelism) {
        ExecutorService pool = Executors.newFixedThreadPool(parallelism);
        try {
            List<Future<?>> closing = new ArrayList<>();
            for (Agent agent : agents.values()) {
                closing.add(pool.submit(() -> CloseableUtils.closeQuietly(agent)));
            }
            for (Future<?> f : closing) {
                try {
                    f.get(2, TimeUnit.MINUTES);
                } catch (Exception e) {
                    // closeQuietly does not throw; a timeout leaves that one to the JVM's exit
                }
            }
        } finally {
            pool.shutdownNow();
            agents.clear();
            clients.clear();
        }
    }

    private static String key(String cluster, String node) {
        return cluster + "/" + node;
    }
}
