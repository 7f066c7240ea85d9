package io.asfc.agent.metrics;

import io.asfc.agent.ssh.SshException;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.zk.AgentRecord.Role;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;

/**
 * What one agent counts and measures about itself, in its own Prometheus registry (never the
 * global one, so that several agents in one JVM do not clash), plus the progress of its loops
 * that {@code /health} judges. Every method is cheap and thread-safe: components call them in one
 * line where the thing happens.
 */
public final class Metrics {
    private static final double NANOS_PER_SECOND = 1e9;
    private static final long NONE = Long.MIN_VALUE;

    /** The ZooKeeper connection as {@code /health} and {@code asfc_zookeeper_connection_state} show it. */
    public enum ZkState {
        /** Not connected yet. */
        CONNECTING,
        CONNECTED,
        /** Connection lost; the session may still be alive. */
        SUSPENDED,
        /** The session is gone (or presumed gone). */
        LOST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LongSupplier nanoTime;
    private final Liveness liveness;
    private final AtomicReference<Role> role = new AtomicReference<>(Role.STANDBY);
    private final AtomicReference<ZkState> zk = new AtomicReference<>(ZkState.CONNECTING);
    private final AtomicLong zkSinceNanos = new AtomicLong();
    private final AtomicLong heartbeatNanos = new AtomicLong();
    /** When the local scheduler was seen dead (or killed as unhealthy) and not yet running again, else NONE. */
    private final AtomicLong failedAtNanos = new AtomicLong(NONE);

    private final Gauge roleGauge;
    private final Gauge zkGauge;
    private final Counter leadershipChanges;
    private final Counter starts;
    private final Counter restarts;
    private final Histogram restartSeconds;
    private final Counter failovers;
    private final Counter strays;
    private final Counter sshFailures;

    public Metrics(AsfcSettings settings, String version, LongSupplier nanoTime) {
        this(settings.nodeId(), settings.cluster(), version, Liveness.limits(settings), nanoTime);
    }

    /** @param limits how long each loop may go without progress before {@code /health} calls it stuck */
    public Metrics(String node, String cluster, String version, Map<Loop, Duration> limits, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.liveness = new Liveness(limits, nanoTime);
        long now = nanoTime.getAsLong();
        zkSinceNanos.set(now);
        heartbeatNanos.set(now);
        Info.builder()
                .name("asfc_agent_info")
                .help("This agent: its node id, cluster and asfc version")
                .labelNames("node", "cluster", "version")
                .register(registry)
                .addLabelValues(node, cluster, version);
        roleGauge = Gauge.builder()
                .name("asfc_role")
                .help("1 for this agent's current controller role, 0 for the other")
                .labelNames("role")
                .register(registry);
        zkGauge = Gauge.builder()
                .name("asfc_zookeeper_connection_state")
                .help("1 for the current state of this agent's ZooKeeper connection, 0 for the others")
                .labelNames("state")
                .register(registry);
        leadershipChanges =
                counter("asfc_leadership_changes", "Times this agent became ACTIVE or stopped being ACTIVE");
        starts = counter("asfc_scheduler_starts", "Scheduler starts by this agent on its host");
        restarts = counter(
                "asfc_scheduler_restarts",
                "Starts by this agent of a scheduler that had died or was killed as unhealthy");
        restartSeconds = Histogram.builder()
                .name("asfc_scheduler_restart_seconds")
                .help("Time from seeing the local scheduler dead (or unhealthy) to running it again")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicUpperBounds(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
                .register(registry);
        failovers = counter(
                "asfc_failovers", "Moves of the scheduler from one node to another, made while this agent was ACTIVE");
        strays = counter("asfc_strays_stopped", "Stray schedulers stopped over SSH while this agent was ACTIVE");
        sshFailures = Counter.builder()
                .name("asfc_ssh_failures")
                .help("Failed SSH calls to other nodes, by reason")
                .labelNames("reason")
                .register(registry);
        for (SshException.Reason reason : SshException.Reason.values()) {
            sshFailures.initLabelValues(label(reason));
        }
        GaugeWithCallback.builder()
                .name("asfc_heartbeat_age_seconds")
                .help("Seconds since this agent last wrote its agents/<node> heartbeat")
                .unit(Unit.SECONDS)
                .callback(cb -> cb.call(secondsSince(heartbeatNanos.get())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("asfc_loop_progress_age_seconds")
                .help("Seconds since each of this agent's loops last made progress (see /health)")
                .unit(Unit.SECONDS)
                .labelNames("loop")
                .callback(cb -> {
                    for (Loop loop : Loop.values()) {
                        cb.call(liveness.sinceProgress(loop).toNanos() / NANOS_PER_SECOND, loop.label());
                    }
                })
                .register(registry);
        showRole(Role.STANDBY);
        showZk(ZkState.CONNECTING);
    }

    private Counter counter(String name, String help) {
        return Counter.builder().name(name).help(help).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    // ---- hooks, one line each where the thing happens

    /** A loop starts a round. */
    public void progress(Loop loop) {
        liveness.progress(loop);
    }

    /** The loops run from now on: {@code /health} judges them from here. */
    public void loopsStarted() {
        liveness.watchFromNow();
    }

    /** This agent's controller role is now {@code newRole}. */
    public void role(Role newRole) {
        if (role.getAndSet(newRole) != newRole) {
            leadershipChanges.inc();
            showRole(newRole);
        }
    }

    /** This agent started its local scheduler. */
    public void schedulerStarted() {
        starts.inc();
        long failedAt = failedAtNanos.getAndSet(NONE);
        if (failedAt != NONE) {
            restarts.inc();
            restartSeconds.observe(secondsSince(failedAt));
        }
    }

    /** The local scheduler was seen dead, or is being killed as unhealthy: the next start is a restart. */
    public void schedulerFailed() {
        failedAtNanos.compareAndSet(NONE, nanoTime.getAsLong());
    }

    /** This node is no longer assigned: a scheduler that failed here is not going to be restarted here. */
    public void schedulerNotAssigned() {
        failedAtNanos.set(NONE);
    }

    public void failover() {
        failovers.inc();
    }

    public void strayStopped() {
        strays.inc();
    }

    public void sshFailed(SshException.Reason reason) {
        sshFailures.labelValues(label(reason)).inc();
    }

    /** This agent wrote its {@code agents/<node>} heartbeat. */
    public void heartbeatWritten() {
        heartbeatNanos.set(nanoTime.getAsLong());
    }

    /** Follows the client's connection state; registers before checking, so no change is missed. */
    public void watch(CuratorFramework client) {
        ConnectionStateListener listener = (c, newState) -> connection(newState);
        client.getConnectionStateListenable().addListener(listener);
        if (client.getZookeeperClient().isConnected()) {
            zk.compareAndSet(ZkState.CONNECTING, ZkState.CONNECTED);
            showZk(zk.get());
        }
    }

    // ---- what /health reads

    /** Whether {@link #loopsStarted()} was called: the agent has joined its cluster. */
    public boolean loopsRunning() {
        return liveness.watching();
    }

    public ZkState zookeeper() {
        return zk.get();
    }

    /** How long the ZooKeeper connection has been in its current state. */
    public Duration zookeeperFor() {
        return Duration.ofNanos(nanoTime.getAsLong() - zkSinceNanos.get());
    }

    /** Each loop that has not made progress for longer than its limit, e.g. "supervisor: no progress for 95s (limit 60s)". */
    public List<String> stuckLoops() {
        return liveness.stuck().stream()
                .map(s -> s.loop().label() + ": no progress for "
                        + s.silentFor().toSeconds() + "s (limit " + s.limit().toSeconds() + "s)")
                .toList();
    }

    /** Why this agent's heartbeat is too old to trust, if it is: older than the heartbeat loop's limit. */
    public Optional<String> staleHeartbeat() {
        Duration limit = liveness.limits().get(Loop.HEARTBEAT);
        Duration age = Duration.ofNanos(nanoTime.getAsLong() - heartbeatNanos.get());
        if (!liveness.watching() || limit == null || age.compareTo(limit) <= 0) {
            return Optional.empty();
        }
        return Optional.of("heartbeat not written for " + age.toSeconds() + "s (limit " + limit.toSeconds() + "s)");
    }

    /** The ZooKeeper connection changed state (Curator's event thread: only atomics here). */
    public void connection(ConnectionState newState) {
        ZkState next = state(newState);
        if (zk.getAndSet(next) != next) {
            zkSinceNanos.set(nanoTime.getAsLong());
        }
        showZk(next);
    }

    private static ZkState state(ConnectionState s) {
        return switch (s) {
            case CONNECTED, RECONNECTED -> ZkState.CONNECTED;
            case SUSPENDED, READ_ONLY -> ZkState.SUSPENDED; // asfc never allows read-only: nothing can be written
            case LOST -> ZkState.LOST;
        };
    }

    private void showRole(Role current) {
        for (Role r : Role.values()) {
            roleGauge.labelValues(r.name().toLowerCase(Locale.ROOT)).set(r == current ? 1 : 0);
        }
    }

    private void showZk(ZkState current) {
        for (ZkState s : ZkState.values()) {
            zkGauge.labelValues(s.label()).set(s == current ? 1 : 0);
        }
    }

    private double secondsSince(long nanos) {
        return Math.max(0, nanoTime.getAsLong() - nanos) / NANOS_PER_SECOND;
    }

    private static String label(SshException.Reason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }
}
