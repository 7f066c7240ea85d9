package io.asfc.it.pg;

import static org.awaitility.Awaitility.await;

import io.asfc.it.ClusterObserver;
import io.asfc.it.CommandResult;
import io.asfc.it.Distribution;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The proving ground: three scheduler hosts {@code a}, {@code b}, {@code c} (198.18.0.11–13), each running the real
 * agent from the built distribution with the {@link Workload}'s scheduler (the stand-in, or a real Airflow); when the
 * workload {@linkplain Workload#agentlessHost() allows it}, a fourth scheduler host {@code d} (198.18.0.14) with sshd
 * but no agent, listed last in {@code asfc.nodes} and in {@code asfc.agentless-nodes}, whose scheduler the ACTIVE
 * controller runs over SSH; three ZooKeeper hosts (198.18.0.21–23) running a real ensemble, and any host the workload
 * adds (198.18.0.31 on), all on one {@link Bridge}, watched by an {@link Observer} that sees every scheduler host.
 * Every namespace is named {@code asfcpg-<pid of this JVM>-…}. {@link #close()} removes everything, and runs from a
 * shutdown hook too, so that Ctrl-C cleans up as well.
 */
final class ProvingGround implements AutoCloseable {

    /** The scheduler hosts with an agent, in {@code asfc.nodes} order. */
    static final List<String> NODES = List.of("a", "b", "c");
    /** The scheduler host without an agent, last in {@code asfc.nodes}, when the workload has one. */
    static final String AGENTLESS = "d";

    static final List<String> ZK_HOSTS = List.of("zk1", "zk2", "zk3");
    private static final String PREFIX = "asfcpg-";
    private static final Pattern OURS = Pattern.compile(PREFIX + "(\\d+)-\\S+");
    private static final Duration STABLE = Duration.ofSeconds(1);

    private final Path dir;
    private final Tunings tunings;
    private final Workload workload;
    private final String prefix = PREFIX + ProcessHandle.current().pid();
    private final Map<String, Host> schedulerHosts = new LinkedHashMap<>();
    private final Map<String, HostAgent> agents = new LinkedHashMap<>();
    private final List<Host> zkHosts = new ArrayList<>();
    private final List<Host> otherHosts = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook = new Thread(this::close, "pg-cleanup");
    private Bridge bridge;
    private ZkEnsemble zk;
    private ClusterObserver cluster;
    private Observer observer;
    private Keys keys;

    private ProvingGround(Path dir, Tunings tunings, Workload workload) {
        this.dir = dir;
        this.tunings = tunings;
        this.workload = workload;
    }

    /** Builds the proving ground with the stand-in scheduler; see {@link #build(Path, Tunings, Workload)}. */
    static ProvingGround build(Path dir, Tunings tunings) throws IOException, InterruptedException {
        return build(dir, tunings, new Workload.StandIn());
    }

    /**
     * Builds the proving ground under {@code dir} for {@code workload} and waits until one scheduler runs; cleans up
     * if that fails. The proving ground closes the workload.
     */
    static ProvingGround build(Path dir, Tunings tunings, Workload workload) throws IOException, InterruptedException {
        removeLeftovers();
        ProvingGround pg = new ProvingGround(Files.createDirectories(dir), tunings, workload);
        Runtime.getRuntime().addShutdownHook(pg.shutdownHook);
        boolean built = false;
        try {
            pg.setUp();
            built = true;
            return pg;
        } finally {
            if (!built) {
                pg.close();
            }
        }
    }

    private void setUp() throws IOException, InterruptedException {
        Distribution dist = Distribution.unpack(dir);
        keys = Keys.generate(dir.resolve("keys"));
        bridge = Bridge.create(prefix);
        List<String> hosts = new ArrayList<>(NODES);
        if (workload.agentlessHost()) {
            hosts.add(AGENTLESS);
        }
        for (int i = 0; i < hosts.size(); i++) {
            String node = hosts.get(i);
            schedulerHosts.put(
                    node,
                    Host.create(
                            bridge, prefix, node, Bridge.SUBNET_PREFIX + (11 + i), keys, dir.resolve("hosts/" + node)));
        }
        for (int i = 0; i < ZK_HOSTS.size(); i++) {
            String name = ZK_HOSTS.get(i);
            zkHosts.add(Host.create(
                    bridge, prefix, name, Bridge.SUBNET_PREFIX + (21 + i), keys, dir.resolve("hosts/" + name)));
        }
        zk = ZkEnsemble.start(dist, bridge, zkHosts);
        workload.prepare(this);
        for (String node : NODES) {
            agents.put(
                    node,
                    HostAgent.create(
                            dist,
                            schedulerHosts.get(node),
                            node,
                            schedulerHosts,
                            agentless(),
                            zk.connectString(),
                            keys,
                            tunings,
                            workload.startCommand(node),
                            workload.extraConf(node)));
        }
        cluster = ClusterObserver.connect(zk.portalConnectString());
        observer = Observer.start(
                workload.isMain(),
                workload.mainMarker(),
                this::hostsByNamespace,
                Set.copyOf(agentless()),
                cluster,
                workload.lifetimeLock().map(io.asfc.common.testing.Lifetimes::new));
        for (HostAgent agent : agents.values()) {
            agent.start();
        }
        awaitSettled(Set.copyOf(NODES), workload.settleTimeout());
    }

    /**
     * Adds host {@code name} at 198.18.0.{@code lastOctet} to the bridge, for a workload's own services (e.g. a
     * database); it is closed with the proving ground.
     */
    Host addHost(String name, int lastOctet) throws IOException {
        Host host =
                Host.create(bridge, prefix, name, Bridge.SUBNET_PREFIX + lastOctet, keys, dir.resolve("hosts/" + name));
        otherHosts.add(host);
        return host;
    }

    Bridge bridge() {
        return bridge;
    }

    Workload workload() {
        return workload;
    }

    Tunings tunings() {
        return tunings;
    }

    Path dir() {
        return dir;
    }

    /** The stand-in's tick file; only for the stand-in workload. */
    Path ticks() {
        return ((Workload.StandIn) workload).ticks();
    }

    Observer observer() {
        return observer;
    }

    ZkEnsemble zk() {
        return zk;
    }

    Map<String, HostAgent> agents() {
        return agents;
    }

    HostAgent agent(String node) {
        return agents.get(node);
    }

    Host host(String node) {
        return schedulerHosts.get(node);
    }

    /** The scheduler hosts without an agent: {@link #AGENTLESS}, or none. */
    List<String> agentless() {
        return schedulerHosts.containsKey(AGENTLESS) ? List.of(AGENTLESS) : List.of();
    }

    List<Host> zkHosts() {
        return zkHosts;
    }

    private Map<String, String> hostsByNamespace() {
        Map<String, String> byNamespace = new HashMap<>();
        schedulerHosts.forEach((node, host) -> byNamespace.put(host.pidNamespace(), node));
        return byNamespace;
    }

    /** The node whose host runs the only scheduler now; fails if not exactly one runs. */
    String schedulerNode() {
        return observer.schedulerHost()
                .orElseThrow(() -> new IllegalStateException("not exactly one scheduler runs: " + observer.latest()
                        + "; the last changes: " + observer.recentChanges(6)));
    }

    /** The sole ACTIVE agent now; fails if ZooKeeper does not name exactly one. */
    String activeNode() {
        return observer.latestRoles()
                .flatMap(Observer.Roles::active)
                .orElseThrow(() -> new IllegalStateException("no sole ACTIVE agent: " + observer.latestRoles()));
    }

    /** The agents whose process runs now. */
    Set<String> runningAgents() throws IOException {
        Set<String> running = new TreeSet<>();
        for (HostAgent a : agents.values()) {
            if (a.isRunning()) {
                running.add(a.node());
            }
        }
        return running;
    }

    /**
     * Waits until the cluster has settled with exactly {@code agentsInZooKeeper} registered ({@link
     * Observer#settled}); returns when it did (System.nanoTime()).
     */
    long awaitSettled(Set<String> agentsInZooKeeper, Duration timeout) {
        try {
            await("one scheduler, steadily, and agents " + agentsInZooKeeper + " with one ACTIVE")
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> observer.settled(agentsInZooKeeper, STABLE));
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException(
                    "the cluster did not settle within " + timeout + ": processes " + observer.latest() + ", roles "
                            + observer.latestRoles() + "\n" + logTails(),
                    e);
        }
        return System.nanoTime();
    }

    /**
     * Undoes every fault: heals partitions, boots crashed hosts, restarts stopped sshds, ZooKeeper servers and
     * agents, waits until the cluster has settled with every agent, and moves the scheduler off an agentless host
     * (scenarios begin with it on a host with an agent).
     */
    void restoreBaseline() throws IOException, InterruptedException {
        for (Host h : schedulerHosts.values()) {
            if (!h.isUp()) {
                h.restore();
            }
            h.linkUp();
            h.flushIptables();
            h.startSshd(); // nothing to do unless a scenario stopped it
        }
        for (Host h : otherHosts) {
            h.flushIptables();
        }
        for (Host h : zkHosts) {
            h.flushIptables();
        }
        boolean restarted = false;
        for (ZkEnsemble.Server s : zk.servers()) {
            if (!s.isRunning()) {
                zk.start(s);
                restarted = true;
            }
        }
        if (restarted) {
            zk.awaitQuorum(Duration.ofSeconds(60));
        }
        for (HostAgent a : agents.values()) {
            if (!a.isRunning()) {
                a.start();
            }
        }
        awaitSettled(Set.copyOf(NODES), workload.settleTimeout());
        String holder = schedulerNode();
        if (agentless().contains(holder)) {
            moveToAgentHost(holder);
        }
    }

    /**
     * Moves the scheduler from the agentless {@code holder} to the first host with an agent ({@code failover --to},
     * as an operator would), and waits until it settled there.
     */
    void moveToAgentHost(String holder) throws IOException, InterruptedException {
        String to = NODES.get(0);
        CommandResult r = agent(to).cli("failover", "--to", to, "--timeout", "30");
        if (r.exitCode() != 0) {
            throw new IllegalStateException(
                    "failover --to " + to + " (off agentless " + holder + ") failed: " + r.describe());
        }
        awaitSettled(Set.copyOf(NODES), workload.settleTimeout());
        if (!schedulerNode().equals(to)) {
            throw new IllegalStateException(
                    "failover --to " + to + " exited 0, but the scheduler runs on " + schedulerNode());
        }
    }

    String logTails() {
        StringBuilder tails = new StringBuilder();
        agents.values().forEach(a -> tails.append(a.logTails()));
        if (zk != null) {
            tails.append(zk.logTails());
        }
        return tails.toString();
    }

    /**
     * Removes what an earlier run left behind when it could not clean up (e.g. its JVM was SIGKILLed): processes in
     * namespaces named {@code asfcpg-<pid>-…} whose JVM is gone, and those namespaces. Nothing else is touched.
     */
    static void removeLeftovers() {
        for (String line : Sh.run("ip", "netns", "list").split("\n")) {
            Matcher m = OURS.matcher(line.trim());
            if (!m.lookingAt() || ProcessHandle.of(Long.parseLong(m.group(1))).isPresent()) {
                continue;
            }
            String netns = line.trim().split("\\s+")[0];
            String inode =
                    Sh.run("stat", "-L", "-c", "%i", "/run/netns/" + netns).trim();
            ProcessHandle.allProcesses()
                    .filter(p -> netnsOf(p.pid()).equals("net:[" + inode + "]"))
                    .forEach(p -> Sh.attempt("kill", "-KILL", Long.toString(p.pid())));
            Sh.attempt("ip", "netns", "del", netns);
        }
    }

    private static String netnsOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net"))
                    .toString();
        } catch (IOException e) {
            return ""; // gone
        }
    }

    /**
     * Stops the observer, then kills every host (SIGKILL to each init ends its agents, schedulers and ZooKeeper at
     * once) and deletes every namespace. Idempotent; runs from the shutdown hook on Ctrl-C.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook runs, and finds this closed
            }
        }
        if (observer != null) {
            observer.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (zk != null) {
            zk.close();
        }
        workload.close();
        schedulerHosts.values().forEach(Host::close);
        zkHosts.forEach(Host::close);
        otherHosts.forEach(Host::close);
        if (bridge != null) {
            bridge.close();
        }
    }
}
