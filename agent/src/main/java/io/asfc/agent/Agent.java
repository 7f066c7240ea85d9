package io.asfc.agent;

import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.alerts.EmailAlerter;
import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.controller.Controller;
import io.asfc.agent.controller.FencingSite;
import io.asfc.agent.controller.Policy;
import io.asfc.agent.controller.Tuning;
import io.asfc.agent.election.Election;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.hooks.Hooks;
import io.asfc.agent.hooks.KnownEpoch;
import io.asfc.agent.http.HttpEndpoint;
import io.asfc.agent.http.StatusView;
import io.asfc.agent.membership.Membership;
import io.asfc.agent.metrics.ClusterWatch;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.supervisor.ChildRunner;
import io.asfc.agent.supervisor.DeadmanFeeder;
import io.asfc.agent.supervisor.SchedulerRunner;
import io.asfc.agent.supervisor.Supervisor;
import io.asfc.agent.supervisor.command.CommandRunner;
import io.asfc.agent.supervisor.health.HttpHealthProbe;
import io.asfc.agent.zk.ConnectionLog;
import io.asfc.agent.zk.EmbeddedZooKeeper;
import io.asfc.agent.zk.SaslReconnectCheck;
import io.asfc.agent.zk.ZkClients;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.concurrent.Lifecycle;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.S4Budget;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.config.SecretFiles;
import io.asfc.common.config.WatchdogDevice;
import io.asfc.common.config.ZkSettings;
import io.asfc.common.net.Hostnames;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.ssh.RemoteScheduler;
import io.asfc.common.ssh.SshClient;
import io.asfc.common.ssh.SshTarget;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.Heartbeat;
import io.asfc.common.zk.AgentRecord.Role;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of the daemon: the only class that constructs components, in the order
 * config → metrics → (HTTP endpoint) → (embedded ZooKeeper) → Curator client → hooks → events → membership
 * → cluster watch (gauges only) → election → supervisor → controller, and closes them in exact reverse. The HTTP endpoint comes
 * first so that a port conflict fails before the agent joins its cluster.
 */
public final class Agent implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    /** Builds the agent's one Curator client; tests pass one that routes through a fault proxy. */
    @FunctionalInterface
    public interface ClientFactory {
        CuratorFramework start(ZkSettings zk, String nodeId);

        /**
         * As {@link #start(ZkSettings, String)}, first trying to resume a session a previous agent
         * handed over ({@link ZkClients#start(ZkSettings, String, Optional)}); a factory that cannot
         * opens a new session, and the hand-over then stops the scheduler.
         */
        default CuratorFramework start(ZkSettings zk, String nodeId, Optional<ZkClients.Resume> resume) {
            return start(zk, nodeId);
        }
    }

    /** The real client factory. */
    public static final ClientFactory ZOOKEEPER = new ClientFactory() {
        @Override
        public CuratorFramework start(ZkSettings zk, String nodeId) {
            return ZkClients.start(zk, nodeId);
        }

        @Override
        public CuratorFramework start(ZkSettings zk, String nodeId, Optional<ZkClients.Resume> resume) {
            return ZkClients.start(zk, nodeId, resume);
        }
    };

    private final AtomicReference<Lifecycle> state = new AtomicReference<>(Lifecycle.LATENT);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AsfcSettings settings;
    private final AgentDirs dirs;
    private final ClientFactory clients;
    private final Clock clock;
    private final Metrics metrics;
    private HttpEndpoint http;
    /** An adopted scheduler's runner while no supervisor runs it yet: {@link #close} stops it. */
    private volatile SchedulerRunner unsupervised;

    private EmbeddedZooKeeper embedded;
    private CuratorFramework client;
    private ConnectionLog connectionLog;
    private SaslReconnectCheck saslReconnectCheck;
    private Hooks hooks;
    private EventLog events;
    private Membership membership;
    private ClusterWatch clusterWatch;
    private Election election;
    private Supervisor supervisor;
    private DeadmanFeeder deadman;
    private Controller controller;
    private Alerter alerter;
    private SshClient sshClient;

    public Agent(AsfcSettings settings, AgentDirs dirs) {
        this(settings, dirs, ZOOKEEPER, Clock.systemUTC());
    }

    public Agent(AsfcSettings settings, AgentDirs dirs, ClientFactory clients, Clock clock) {
        this.settings = settings;
        this.dirs = dirs;
        this.clients = clients;
        this.clock = clock;
        this.metrics = new Metrics(settings, Version.get(), System::nanoTime);
    }

    /**
     * Starts every component and returns once the agent is registered and running for election.
     * While ZooKeeper is unreachable it keeps trying, with a WARN each connection timeout, until
     * {@link #close()}.
     *
     * @return false when closed before it could finish starting
     * @throws io.asfc.agent.membership.DuplicateNodeIdException when another live agent has this node id
     * @throws io.asfc.agent.http.HttpBindException when {@code asfc.http} is enabled and its address
     *     cannot be listened on
     */
    public boolean start() {
        return start(Optional.empty());
    }

    /**
     * As {@link #start()}, but gives up when ZooKeeper stays unreachable for {@code giveUpAfter}:
     * {@code bin/asfc-agent start} then exits 69 instead of leaving an agent that never joined.
     *
     * @throws ZkUnreachableException when ZooKeeper could not be reached within {@code giveUpAfter}
     */
    public boolean start(Optional<Duration> giveUpAfter) {
        if (!state.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
            throw new IllegalStateException("agent can be started only once");
        }
        LOG.info(
                "asfc agent {} starting: node {}, cluster {}, config {}",
                Version.get(),
                settings.nodeId(),
                settings.cluster(),
                settings.source());
        SecretFiles.permissionWarnings(settings).forEach(warning -> LOG.warn("{}", warning));
        settings.scheduler()
                .watchdogDevice()
                .flatMap(WatchdogDevice::nowayoutWarning)
                .ifPresent(warning -> LOG.warn("{}", warning));
        if (settings.http().enabled()) {
            http = new HttpEndpoint(settings.http(), settings.nodeId(), metrics);
            http.start();
        }
        if (settings.zookeeper().isEmbedded()) {
            embedded = new EmbeddedZooKeeper(settings.zookeeper().embedded());
            embedded.start();
        }
        // A previous agent of this node that left for a hand-over: resume its session (docs/UPGRADE.md).
        Optional<HandOverFile> handedOver = AgentHandOver.take(settings, dirs, clock);
        client = clients.start(settings.zookeeper(), settings.nodeId(), handedOver.map(HandOverFile::resume));
        connectionLog = new ConnectionLog(settings.zookeeper().effectiveConnect(), settings.nodeId(), System::nanoTime);
        connectionLog.start(client);
        metrics.watch(client);
        if (!awaitZooKeeper(giveUpAfter)) {
            return false;
        }
        if (settings.zookeeper().isSasl()) {
            saslReconnectCheck = new SaslReconnectCheck(settings.zookeeper(), settings.nodeId());
            saslReconnectCheck.start(client);
        }
        ZkPaths paths = new ZkPaths(settings.zookeeper().root(), settings.cluster());
        KnownEpoch epoch = new KnownEpoch();
        hooks = Hooks.create(
                settings.cluster(),
                settings.nodeId(),
                settings.hooks(),
                dirs.hookOutput(settings.nodeId()),
                epoch::current,
                metrics,
                clock);
        events = new EventLog(
                client,
                paths,
                settings.nodeId(),
                settings.controller().eventsRetain(),
                clock,
                EventLog.DEFAULT_CAPACITY,
                hooks::onEvent);
        events.start();
        ClusterReader reader = new ClusterReader(client, paths, settings.cluster(), clock);
        membership = new Membership(
                client,
                paths,
                identity(),
                settings.controller().heartbeatInterval(),
                settings.controller().heartbeatRefresh(),
                events,
                metrics,
                clock,
                System::nanoTime);
        clusterWatch = new ClusterWatch(client, paths, metrics, epoch::seen);
        FencedWriter writer = new FencedWriter(client, paths);
        election = new Election(client, paths, settings.nodeId(), writer, events, metrics, clock);
        SchedulerRunner runner = runner(settings.scheduler());
        boolean adopted = handedOver.isPresent() && AgentHandOver.adopt(settings, client, handedOver.get(), runner);
        if (adopted) {
            unsupervised = runner; // until the supervisor runs: a start that fails now must not leave it behind
        }
        deadman = new DeadmanFeeder(
                settings.nodeId(),
                runner,
                client,
                paths.cluster(),
                S4Budget.of(settings).deadman());
        alerter = Alerter.forwarding(
                EmailAlerter.create(settings.cluster(), settings.nodeId(), settings.alerts()),
                hooks,
                settings.alerts().onLeadershipChange());
        supervisor = new Supervisor(
                client,
                paths,
                reader,
                settings.nodeId(),
                settings.scheduler(),
                settings.zookeeper().selfFenceAfter(),
                runner,
                HttpHealthProbe.fromSettings(settings.scheduler().health()),
                events,
                membership::reportScheduler,
                metrics,
                alerter,
                System::nanoTime);
        controller = new Controller(
                client,
                paths,
                settings.nodeId(),
                new Policy(
                        settings.nodes(),
                        Set.copyOf(settings.agentlessNodes()),
                        settings.scheduler().maxRestartsBeforeFailover()),
                Tuning.from(settings),
                writer,
                events,
                alerter,
                remoteScheduler(),
                node -> SshTarget.of(settings, node),
                new FencingSite(
                        settings.cluster(),
                        settings::hostOf,
                        settings.controller().fencingTimeout(),
                        dirs.logDir()),
                metrics,
                clock,
                System::nanoTime,
                election::leadershipLost);
        election.addRoleListener(lease -> lease.ifPresent(l -> epoch.seen(l.epoch())));
        election.addRoleListener(lease -> membership.setRole(lease.isPresent() ? Role.ACTIVE : Role.STANDBY));
        election.addRoleListener(lease -> metrics.role(lease.isPresent() ? Role.ACTIVE : Role.STANDBY));
        election.addRoleListener(controller::onRole);
        try {
            metrics.loopsStarted();
            membership.start();
            clusterWatch.start();
            deadman.start();
            supervisor.start();
            unsupervised = null;
            controller.start();
            election.start();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new IllegalStateException("could not join cluster " + paths.cluster() + ": " + e, e);
        }
        if (http != null) {
            http.serveStatus(
                    new StatusView(settings.nodeId(), election::isActive, membership::published, reader, metrics));
        }
        events.record(
                "agent-started",
                settings.nodeId() + " (asfc " + Version.get() + ", pid "
                        + ProcessHandle.current().pid() + ")"
                        + (adopted
                                ? "; took over the ZooKeeper session and the running scheduler (pid "
                                        + runner.status().pid() + ") of the agent it replaced (hand-over)"
                                : ""));
        LOG.info("asfc agent started: node {}", settings.nodeId());
        return true;
    }

    private SchedulerRunner runner(SchedulerSettings scheduler) {
        TreeStopper stopper = new TreeStopper(System::nanoTime);
        Path output = dirs.schedulerOutput(settings.nodeId());
        if (scheduler.mode() == SchedulerMode.COMMAND) {
            return new CommandRunner(
                    settings.nodeId(), scheduler, S4Budget.of(settings).deadman(), output, stopper);
        }
        return new ChildRunner(
                settings.nodeId(),
                scheduler,
                S4Budget.of(settings).deadman(),
                dirs.schedulerSession(settings.nodeId()),
                output,
                stopper,
                clock);
    }

    /** Where {@code /health}, {@code /status} and {@code /metrics} are served, when {@code asfc.http.enabled}. */
    public Optional<InetSocketAddress> httpAddress() {
        return Optional.ofNullable(http).map(HttpEndpoint::address);
    }

    /** Whether this agent currently holds leadership (a hint; fenced writes decide). */
    public boolean isActive() {
        return election != null && election.isActive();
    }

    private boolean awaitZooKeeper(Optional<Duration> giveUpAfter) {
        long began = System.nanoTime();
        while (state.get() == Lifecycle.STARTED) {
            try {
                ZkClients.awaitConnected(client, settings.zookeeper());
                LOG.info(
                        "connected to ZooKeeper at {}{}",
                        settings.zookeeper().effectiveConnect(),
                        settings.zookeeper().client().secure() ? " over TLS" : "");
                checkNegotiatedSession();
                return true;
            } catch (ZkUnreachableException e) {
                Duration waited = Duration.ofNanos(System.nanoTime() - began);
                if (giveUpAfter.isPresent() && waited.compareTo(giveUpAfter.get()) >= 0) {
                    throw new ZkUnreachableException(e.getMessage() + "; gave up after " + waited.toSeconds()
                            + "s of trying (ASFC_START_TIMEOUT; 'asfc-agent start --no-wait' keeps trying)");
                }
                LOG.warn("{}; still trying", e.getMessage());
            }
        }
        return false;
    }

    /** ZooKeeper may grant another session timeout than asked; the timing guarantees depend on it. */
    private void checkNegotiatedSession() {
        try {
            long granted = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
            long asked = settings.zookeeper().sessionTimeout().toMillis();
            if (granted != asked) {
                LOG.warn(
                        "ZooKeeper granted a session timeout of {}ms instead of the configured {}ms"
                                + " (the server's min/maxSessionTimeout); takeover takes about {}ms",
                        granted,
                        asked,
                        granted);
            }
            // check-config and start refused a config whose S4 budget fails; the server may still
            // have granted another session timeout than the one configured.
            S4Budget budget = S4Budget.of(settings, Duration.ofMillis(granted));
            budget.problem().ifPresent(problem -> LOG.error("with the granted session timeout, {}", problem));
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.debug("could not read the negotiated session timeout", e);
        }
    }

    private AgentRecord identity() {
        return new AgentRecord(
                settings.nodeId(),
                Hostnames.local(),
                ProcessHandle.current().pid(),
                Version.get(),
                Role.STANDBY,
                SchedulerState.STOPPED,
                new Heartbeat(0, clock.instant()),
                clock.instant());
    }

    /** SSH enforcement, unless {@code ssh.enabled = false}. */
    private Optional<RemoteScheduler> remoteScheduler() {
        if (!settings.ssh().enabled()) {
            LOG.warn("ssh.enabled = false: stray schedulers are not swept, and a host whose agent died is not fenced "
                    + "over SSH (unless a shell: fencing method confirms it stopped, takeover waits takeover-grace"
                    + " and relies on that host's self-fencing)");
            return Optional.empty();
        }
        sshClient = new SshClient(settings.ssh());
        return Optional.of(
                new RemoteScheduler(sshClient, settings.scheduler(), settings.cluster(), metrics::sshOperation));
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Hands leadership over at once, stops the local scheduler, removes this agent's znode and closes
     * the session; or, when {@code bin/asfc-agent stop --hand-over} asked for it ({@link
     * AgentDirs#handOverRequest}), hands over to the next agent of this node instead.
     */
    @Override
    public void close() {
        close(AgentHandOver.requested(dirs));
    }

    /**
     * As {@link #close()}. With {@code handOver}: leadership is handed over as on any stop, but the
     * scheduler keeps running under the on-host deadman, which waits for the next agent, and the
     * session stays open (this JVM exits without closing it) for the next agent to resume
     * ({@link HandOverFile}). It falls back to a plain stop when there is nothing to hand over (no
     * scheduler runs here, {@code stop-with-agent} is off, or ZooKeeper is embedded) or the deadman
     * does not accept.
     */
    public void close(boolean handOver) {
        if (state.getAndSet(Lifecycle.CLOSED) == Lifecycle.CLOSED) {
            return;
        }
        LOG.info("asfc agent stopping{}: node {}", handOver ? " for a hand-over" : "", settings.nodeId());
        CloseableUtils.closeQuietly(saslReconnectCheck); // renews no handle while the rest stops
        CloseableUtils.closeQuietly(election);
        CloseableUtils.closeQuietly(controller);
        CloseableUtils.closeQuietly(sshClient);
        CloseableUtils.closeQuietly(alerter);
        boolean handedOver = handOver
                && supervisor != null
                && AgentHandOver.leave(settings, dirs, client, supervisor, embedded != null, clock);
        if (!handedOver) {
            CloseableUtils.closeQuietly(supervisor);
            stopUnsupervised();
        }
        CloseableUtils.closeQuietly(deadman);
        if (events != null && client.getZookeeperClient().isConnected()) {
            events.record(
                    handedOver ? "agent-handing-over" : "agent-stopped",
                    settings.nodeId()
                            + (handedOver
                                    ? " stopped for a hand-over: its scheduler keeps running for the next agent"
                                    : " stopped"));
        }
        CloseableUtils.closeQuietly(clusterWatch);
        if (handedOver) {
            membership.leave();
        } else {
            CloseableUtils.closeQuietly(membership);
        }
        CloseableUtils.closeQuietly(events); // after every component that records events: flushes them
        CloseableUtils.closeQuietly(hooks); // after the event log, which hands it events
        CloseableUtils.closeQuietly(connectionLog);
        if (!handedOver) {
            CloseableUtils.closeQuietly(client); // with a hand-over the session stays for the next agent
        }
        CloseableUtils.closeQuietly(embedded);
        CloseableUtils.closeQuietly(http);
        LOG.info("asfc agent stopped{}: node {}", handedOver ? " (handed over)" : "", settings.nodeId());
        closed.countDown();
    }

    /**
     * A scheduler adopted from a hand-over while this agent failed to start (its supervisor never ran): stopped
     * before the session closes, as the supervisor would have.
     */
    private void stopUnsupervised() {
        SchedulerRunner runner = unsupervised;
        if (runner == null) {
            return;
        }
        unsupervised = null;
        try {
            runner.stop(settings.scheduler().selfFenceStopTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
