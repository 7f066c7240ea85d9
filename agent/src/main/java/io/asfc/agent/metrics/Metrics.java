package io.asfc.agent.metrics;

import io.asfc.common.config.AsfcSettings;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshException;
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
import java.util.Set;
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
 * line where the thing happens. The registry also holds the JVM's and the process's own metrics
 * ({@link JvmProcessMetrics}). Every metric is built without exemplars: there is no tracer to take
 * them from, and with them each update schedules a task on the Prometheus library's own thread
 * (one thread more, woken at each progress pulse).
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

    /** Why the scheduler left a node, as {@code asfc_failovers_total{reason}} shows it. */
    public enum FailoverReason {
        /** The assigned node's agent is gone (its session ended), or an agentless node is unreachable. */
        AGENT_LOST,
        /** The scheduler failed {@code max-restarts-before-failover} times in a row there. */
        SCHEDULER_FAILED,
        /** An operator asked for it: {@code failover}, {@code drain}. */
        OPERATOR,
        /** {@code controller.failback = to-preferred}: back to the first node of {@code nodes}. */
        FAILBACK,
        /** Anything else, e.g. an unreadable assignment, or a move a previous leader began. */
        OTHER;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How one run of {@code hooks.on-event} ended, as {@code asfc_hook_runs_total{result}} shows it. */
    public enum HookResult {
        /** Exit status 0. */
        OK,
        /** A non-zero exit status, or it could not be started. */
        FAILED,
        /** It outlasted {@code hooks.timeout} and its process tree was stopped. */
        TIMEOUT;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where hooks send events, as {@code asfc_hook_events_dropped_total{sink}} shows it. */
    public enum HookSink {
        COMMAND,
        WEBHOOK;

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
    /** When the ACTIVE controller began moving the scheduler away from a node, else NONE. */
    private final AtomicLong failoverBeganNanos = new AtomicLong(NONE);

    private final Gauge roleGauge;
    private final Gauge zkGauge;
    private final Gauge newerSchemaGauge;
    private final Counter leadershipChanges;
    private final Counter starts;
    private final Counter restarts;
    private final Histogram restartSeconds;
    private final Counter failovers;
    private final Histogram failoverSeconds;
    private final Counter strays;
    private final Counter foreignSchedulers;
    private final Counter watchdogDeviceFailures;
    private final Gauge watchdogDeviceFailing;
    private final Counter sshFailures;
    private final Counter sshOperations;
    private final Counter selfFences;
    private final Counter sessionExpirations;
    private final Counter hookRuns;
    private final Counter hookDrops;
    private final Counter webhookDeliveries;
    private final Counter webhookRetries;
    private final LocalSchedulerGauges scheduler;
    private final ClusterGauges clusterGauges;

    public Metrics(AsfcSettings settings, String version, LongSupplier nanoTime) {
        this(
                settings.nodeId(),
                settings.cluster(),
                version,
                settings.nodes().isEmpty() ? List.of(settings.nodeId()) : settings.nodes(),
                Liveness.limits(settings),
                nanoTime);
    }

    /** @param limits how long each loop may go without progress before {@code /health} calls it stuck */
    public Metrics(String node, String cluster, String version, Map<Loop, Duration> limits, LongSupplier nanoTime) {
        this(node, cluster, version, List.of(node), limits, nanoTime);
    }

    /**
     * @param nodes the cluster's nodes, shown (at 0) in the per-node gauges before anything happens
     * @param limits how long each loop may go without progress before {@code /health} calls it stuck
     */
    public Metrics(
            String node,
            String cluster,
            String version,
            List<String> nodes,
            Map<Loop, Duration> limits,
            LongSupplier nanoTime) {
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
                .withoutExemplars()
                .name("asfc_role")
                .help("1 for this agent's current controller role, 0 for the other")
                .labelNames("role")
                .register(registry);
        zkGauge = Gauge.builder()
                .withoutExemplars()
                .name("asfc_zookeeper_connection_state")
                .help("1 for the current state of this agent's ZooKeeper connection, 0 for the others")
                .labelNames("state")
                .register(registry);
        newerSchemaGauge = Gauge.builder()
                .withoutExemplars()
                .name("asfc_newer_schema")
                .help("1 while this agent refuses to become ACTIVE because the cluster holds records of a newer"
                        + " major schema (docs/UPGRADE.md), else 0")
                .register(registry);
        leadershipChanges =
                counter("asfc_leadership_changes", "Times this agent became ACTIVE or stopped being ACTIVE");
        starts = counter("asfc_scheduler_starts", "Scheduler starts by this agent on its host");
        restarts = counter(
                "asfc_scheduler_restarts",
                "Starts by this agent of a scheduler that had died or was killed as unhealthy");
        restartSeconds = Histogram.builder()
                .withoutExemplars()
                .name("asfc_scheduler_restart_seconds")
                .help("Time from seeing the local scheduler dead (or unhealthy) to running it again")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicUpperBounds(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
                .register(registry);
        failovers = Counter.builder()
                .withoutExemplars()
                .name("asfc_failovers")
                .help("Moves of the scheduler from one node to another, made while this agent was ACTIVE, by reason")
                .labelNames("reason")
                .register(registry);
        for (FailoverReason reason : FailoverReason.values()) {
            failovers.initLabelValues(reason.label());
        }
        failoverSeconds = Histogram.builder()
                .withoutExemplars()
                .name("asfc_failover_duration_seconds")
                .help("Time from the ACTIVE controller beginning to move the scheduler to the new node running it")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicUpperBounds(1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300)
                .register(registry);
        selfFences = counter(
                "asfc_self_fences",
                "Times this agent stopped its scheduler because ZooKeeper was unreachable for self-fence-after");
        sessionExpirations = counter(
                "asfc_zk_session_expirations",
                "Times this agent's ZooKeeper session expired (or was presumed expired: connection state LOST)");
        strays = counter("asfc_strays_stopped", "Stray schedulers stopped over SSH while this agent was ACTIVE");
        foreignSchedulers = Counter.builder()
                .withoutExemplars()
                .name("asfc_foreign_schedulers")
                .help("Schedulers on this host that asfc did not start (scheduler.foreign), by what this agent did:"
                        + " stopped, or alerted (left running, reported once)")
                .labelNames("action")
                .register(registry);
        foreignSchedulers.initLabelValues("stopped");
        foreignSchedulers.initLabelValues("alerted");
        watchdogDeviceFailures = counter(
                "asfc_watchdog_device_failures",
                "Times the on-host deadman could not open or write to scheduler.watchdog.device (it then runs"
                        + " without it and retries every second)");
        watchdogDeviceFailing = Gauge.builder()
                .withoutExemplars()
                .name("asfc_watchdog_device_failing")
                .help("1 while the on-host deadman's last report on scheduler.watchdog.device is a failure (it runs"
                        + " without the device), 0 otherwise")
                .register(registry);
        watchdogDeviceFailing.set(0);
        sshFailures = Counter.builder()
                .withoutExemplars()
                .name("asfc_ssh_failures")
                .help("Failed SSH calls to other nodes, by reason")
                .labelNames("reason")
                .register(registry);
        for (SshException.Reason reason : SshException.Reason.values()) {
            sshFailures.initLabelValues(label(reason));
        }
        sshOperations = Counter.builder()
                .withoutExemplars()
                .name("asfc_ssh_operations")
                .help("Operations on other nodes' schedulers over SSH, by operation and result (ok or failed)")
                .labelNames("op", "result")
                .register(registry);
        for (RemoteScheduler.Op op : RemoteScheduler.Op.values()) {
            sshOperations.initLabelValues(op.label(), "ok");
            sshOperations.initLabelValues(op.label(), "failed");
        }
        hookRuns = labelled("asfc_hook_runs", "Runs of hooks.on-event, by result (ok, failed, timeout)", "result");
        for (HookResult result : HookResult.values()) {
            hookRuns.initLabelValues(result.label());
        }
        hookDrops = labelled(
                "asfc_hook_events_dropped",
                "Events not handed to a hook because its queue was full, by sink (command, webhook)",
                "sink");
        for (HookSink sink : HookSink.values()) {
            hookDrops.initLabelValues(sink.label());
        }
        webhookDeliveries = labelled(
                "asfc_webhook_deliveries",
                "Events posted to hooks.webhook, by result: ok, or failed (every attempt failed, or a final answer)",
                "result");
        webhookDeliveries.initLabelValues("ok");
        webhookDeliveries.initLabelValues("failed");
        webhookRetries = counter("asfc_webhook_retries", "Attempts to post an event to hooks.webhook after the first");
        scheduler = new LocalSchedulerGauges(registry);
        clusterGauges = new ClusterGauges(registry, nodes);
        GaugeWithCallback.builder()
                .name("asfc_heartbeat_age_seconds")
                .help("Seconds since this agent last wrote its agents/<node> record, or found it current"
                        + " (written under the live session; rewritten on change and every heartbeat-refresh)")
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
        JvmProcessMetrics.register(registry);
    }

    private Counter labelled(String name, String help, String label) {
        return Counter.builder()
                .withoutExemplars()
                .name(name)
                .help(help)
                .labelNames(label)
                .register(registry);
    }

    private Counter counter(String name, String help) {
        return Counter.builder().withoutExemplars().name(name).help(help).register(registry);
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
        if (newRole != Role.ACTIVE) {
            failoverBeganNanos.set(NONE); // a move this agent began is timed by whoever finishes it
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

    /** The ACTIVE controller moved the scheduler from one node to another. */
    public void failover(FailoverReason reason) {
        failovers.labelValues(reason.label()).inc();
    }

    /** A move without a known reason: counted as {@code reason="other"}. */
    public void failover() {
        failover(FailoverReason.OTHER);
    }

    /** The ACTIVE controller began moving the scheduler away from a node (the first call of a move counts). */
    public void failoverBegan() {
        failoverBeganNanos.compareAndSet(NONE, nanoTime.getAsLong());
    }

    /** The node the scheduler moved to runs it: the move that {@link #failoverBegan()} timed is over. */
    public void failoverCompleted() {
        long began = failoverBeganNanos.getAndSet(NONE);
        if (began != NONE) {
            failoverSeconds.observe(secondsSince(began));
        }
    }

    /** This agent refuses (true) or no longer refuses to become ACTIVE over records of a newer major schema. */
    public void newerSchema(boolean refusing) {
        newerSchemaGauge.set(refusing ? 1 : 0);
    }

    /** This agent stopped its local scheduler because ZooKeeper was unreachable for self-fence-after (S4). */
    public void selfFenced() {
        selfFences.inc();
    }

    /** What this agent last reported about its local scheduler in {@code agents/<node>}. */
    public void schedulerReported(boolean running, boolean healthy, int failuresInARow) {
        scheduler.show(running, healthy, failuresInARow);
    }

    /** The {@code scheduler} znode names {@code node}, or no node (empty) while a move is under way. */
    public void assignment(Optional<String> node) {
        clusterGauges.assignment(node);
    }

    /** The nodes whose {@code nodes/<node>} record says quarantined; every other node is not. */
    public void quarantined(Set<String> nodes) {
        clusterGauges.quarantined(nodes);
    }

    /** One operation on another node over SSH ended, well or not. */
    public void sshOperation(RemoteScheduler.Op op, boolean ok) {
        sshOperations.labelValues(op.label(), ok ? "ok" : "failed").inc();
    }

    public void strayStopped() {
        strays.inc();
    }

    /**
     * The local supervisor found a scheduler on this host that asfc did not start: it stopped it
     * ({@code action="stopped"}), or only reported it ({@code action="alerted"}). Once per process.
     */
    public void foreignScheduler(boolean stopped) {
        foreignSchedulers.labelValues(stopped ? "stopped" : "alerted").inc();
    }

    /**
     * The on-host deadman reported {@code failures} new failures to open or write to {@code
     * watchdog.device}; {@code failing}: its last report is a failure.
     */
    public void watchdogDevice(int failures, boolean failing) {
        if (failures > 0) {
            watchdogDeviceFailures.inc(failures);
        }
        watchdogDeviceFailing.set(failing ? 1 : 0);
    }

    public void sshFailed(SshException.Reason reason) {
        sshFailures.labelValues(label(reason)).inc();
    }

    /** One run of {@code hooks.on-event} ended. */
    public void hookRun(HookResult result) {
        hookRuns.labelValues(result.label()).inc();
    }

    /** An event was dropped because the queue of a hook was full. */
    public void hookEventDropped(HookSink sink) {
        hookDrops.labelValues(sink.label()).inc();
    }

    /** The webhook took an event ({@code ok}), or did not and will not be asked again. */
    public void webhookDelivered(boolean ok) {
        webhookDeliveries.labelValues(ok ? "ok" : "failed").inc();
    }

    /** The webhook is asked again for an event after a failed attempt. */
    public void webhookRetried() {
        webhookRetries.inc();
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
            if (next == ZkState.LOST) {
                sessionExpirations.inc();
            }
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
