package io.asfc.agent;

import io.asfc.agent.election.Election;
import io.asfc.agent.election.FencedWriter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.membership.Membership;
import io.asfc.agent.zk.EmbeddedZooKeeper;
import io.asfc.agent.zk.ZkClients;
import io.asfc.agent.zk.ZkUnreachableException;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.ZkSettings;
import io.asfc.common.net.Hostnames;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.Heartbeat;
import io.asfc.common.zk.AgentRecord.Role;
import io.asfc.common.zk.AgentRecord.SchedulerState;
import io.asfc.common.zk.ZkPaths;
import java.io.Closeable;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of the daemon: the only class that constructs components, in the order
 * config → (embedded ZooKeeper) → Curator client → events → membership → election, and closes
 * them in exact reverse.
 */
public final class Agent implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    /** Builds the agent's one Curator client; tests pass one that routes through a fault proxy. */
    @FunctionalInterface
    public interface ClientFactory {
        CuratorFramework start(ZkSettings zk, String nodeId);
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AsfcSettings settings;
    private final ClientFactory clients;
    private final Clock clock;
    private EmbeddedZooKeeper embedded;
    private CuratorFramework client;
    private EventLog events;
    private Membership membership;
    private Election election;

    public Agent(AsfcSettings settings) {
        this(settings, ZkClients::start, Clock.systemUTC());
    }

    public Agent(AsfcSettings settings, ClientFactory clients, Clock clock) {
        this.settings = settings;
        this.clients = clients;
        this.clock = clock;
    }

    /**
     * Starts every component and returns once the agent is registered and running for election.
     * While ZooKeeper is unreachable it keeps trying, with a WARN each connection timeout, until
     * {@link #close()}.
     *
     * @return false when closed before it could finish starting
     * @throws io.asfc.agent.membership.DuplicateNodeIdException when another live agent has this node id
     */
    public boolean start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("agent can be started only once");
        }
        LOG.info(
                "asfc agent {} starting: node {}, cluster {}, config {}",
                Version.get(),
                settings.nodeId(),
                settings.cluster(),
                settings.source());
        if (settings.zookeeper().isEmbedded()) {
            embedded = new EmbeddedZooKeeper(settings.zookeeper().embedded());
            embedded.start();
        }
        client = clients.start(settings.zookeeper(), settings.nodeId());
        if (!awaitZooKeeper()) {
            return false;
        }
        ZkPaths paths = new ZkPaths(settings.zookeeper().root(), settings.cluster());
        events = new EventLog(
                client, paths, settings.nodeId(), settings.controller().eventsRetain(), clock);
        membership = new Membership(
                client,
                paths,
                identity(),
                settings.controller().heartbeatInterval(),
                () -> SchedulerState.STOPPED,
                events,
                clock,
                System::nanoTime);
        election = new Election(client, paths, settings.nodeId(), new FencedWriter(client, paths), events, clock);
        election.addRoleListener(lease -> membership.setRole(lease.isPresent() ? Role.ACTIVE : Role.STANDBY));
        try {
            membership.start();
            election.start();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            throw new IllegalStateException("could not join cluster " + paths.cluster() + ": " + e, e);
        }
        events.record(
                "agent-started",
                settings.nodeId() + " (asfc " + Version.get() + ", pid "
                        + ProcessHandle.current().pid() + ")");
        LOG.info("asfc agent started: node {}", settings.nodeId());
        return true;
    }

    /** Whether this agent currently holds leadership (a hint; fenced writes decide). */
    public boolean isActive() {
        return election != null && election.isActive();
    }

    private boolean awaitZooKeeper() {
        while (state.get() == State.STARTED) {
            try {
                ZkClients.awaitConnected(client, settings.zookeeper());
                LOG.info("connected to ZooKeeper at {}", settings.zookeeper().effectiveConnect());
                return true;
            } catch (ZkUnreachableException e) {
                LOG.warn("{}; still trying", e.getMessage());
            }
        }
        return false;
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

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Hands leadership over at once, removes this agent's znode and closes the session. */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        LOG.info("asfc agent stopping: node {}", settings.nodeId());
        if (events != null && client.getZookeeperClient().isConnected()) {
            events.record("agent-stopped", settings.nodeId() + " stopped");
        }
        CloseableUtils.closeQuietly(election);
        CloseableUtils.closeQuietly(membership);
        CloseableUtils.closeQuietly(client);
        CloseableUtils.closeQuietly(embedded);
        LOG.info("asfc agent stopped: node {}", settings.nodeId());
        closed.countDown();
    }
}
