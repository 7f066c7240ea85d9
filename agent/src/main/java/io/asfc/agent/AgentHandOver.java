package io.asfc.agent;

import io.asfc.agent.supervisor.DeadmanHandOver;
import io.asfc.agent.supervisor.Lifeline;
import io.asfc.agent.supervisor.SchedulerRunner;
import io.asfc.agent.supervisor.Supervisor;
import io.asfc.agent.zk.ZkSession;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.S4Budget;
import io.asfc.common.zk.ZkPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of a hand-over (a rolling upgrade with no scheduler restart, docs/UPGRADE.md): whether one was
 * asked for, the leaving agent's half ({@link #leave}) and the next agent's ({@link #take}, {@link #adopt}). The
 * deadman's side is {@link DeadmanHandOver}; {@link Agent} calls these at its stop and start.
 */
final class AgentHandOver {
    private static final Logger LOG = LoggerFactory.getLogger(AgentHandOver.class);

    private AgentHandOver() {}

    /** Whether {@code bin/asfc-agent stop --hand-over} asked this agent (by pid) to hand over; the request is used once. */
    static boolean requested(AgentDirs dirs) {
        Path request = dirs.handOverRequest();
        try {
            if (!Files.exists(request)) {
                return false;
            }
            String pid = Files.readString(request).trim();
            if (!pid.equals(Long.toString(ProcessHandle.current().pid()))) {
                return false;
            }
            Files.deleteIfExists(request);
            return true;
        } catch (IOException e) {
            LOG.warn("cannot read the hand-over request {}: {}", request, e.toString());
            return false;
        }
    }

    /**
     * What a previous agent of this node left for a hand-over, taken (used once); empty with an embedded ZooKeeper,
     * which stopped with that agent. A file older than two session timeouts is of a session that has expired.
     */
    static Optional<HandOverFile> take(AsfcSettings settings, AgentDirs dirs, Clock clock) {
        if (settings.zookeeper().isEmbedded()) {
            return Optional.empty();
        }
        return HandOverFile.take(
                dirs.handOverFile(settings.nodeId()),
                settings.nodeId(),
                clock.millis(),
                settings.zookeeper().sessionTimeout().multipliedBy(2));
    }

    /**
     * The second half of a hand-over: the previous agent left its scheduler running under the on-host
     * deadman, and its session open. This agent keeps that scheduler only when it resumed that very
     * session: to the rest of the cluster, nothing happened but a pause of the agent shorter than the
     * session timeout, which the deadman covers as it covers a frozen agent (docs/SAFETY.md). Otherwise
     * (the session expired: the controller may already be moving the scheduler) the deadman stops it
     * now, and this agent starts from nothing, as after any agent's death.
     */
    static boolean adopt(AsfcSettings settings, CuratorFramework client, HandOverFile handed, SchedulerRunner runner) {
        Path fifo = Path.of(handed.fifo());
        long session;
        try {
            session = ZkSession.id(client);
        } catch (RuntimeException e) {
            session = 0;
        }
        if (session == handed.sessionId()) {
            dropLeftoverLeadership(client, new ZkPaths(settings.zookeeper().root(), settings.cluster()));
        }
        if (session == handed.sessionId() && runner.adoptDeadman(fifo, handed.deadmanPid())) {
            LOG.info(
                    "hand-over: resumed ZooKeeper session 0x{} of the previous agent (pid {}) and adopted its"
                            + " scheduler (pid {}) with the on-host deadman (pid {})",
                    Long.toHexString(session),
                    handed.agentPid(),
                    runner.status().pid(),
                    handed.deadmanPid());
            return true;
        }
        String why = session == handed.sessionId()
                ? "its on-host deadman (pid " + handed.deadmanPid() + ") is gone or could not be adopted"
                : "its ZooKeeper session 0x" + Long.toHexString(handed.sessionId()) + " had expired";
        LOG.warn(
                "hand-over from the previous agent (pid {}) failed: {}; stopping its scheduler",
                handed.agentPid(),
                why);
        DeadmanHandOver.attach(fifo, handed.deadmanPid()).ifPresent(Lifeline::stop);
        try {
            runner.stop(settings.scheduler().selfFenceStopTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * The resumed session's leader-latch node and {@code active}, if the previous agent could not delete
     * them as it handed leadership over: this agent did not win them, and a latch node that nobody
     * watches would keep every other agent from leading for as long as this session lives.
     */
    private static void dropLeftoverLeadership(CuratorFramework client, ZkPaths paths) {
        try {
            List<String> latch = client.checkExists().forPath(paths.leader()) == null
                    ? List.of()
                    : client.getChildren().forPath(paths.leader());
            List<String> owned = new ArrayList<>();
            latch.forEach(child -> owned.add(paths.leader() + "/" + child));
            owned.add(paths.active());
            for (String path : owned) {
                Stat stat = client.checkExists().forPath(path);
                if (stat != null && ZkSession.owns(client, stat)) {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                    LOG.warn("hand-over: removed {}, which the previous agent left in the resumed session", path);
                }
            }
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("hand-over: could not look for leadership nodes the previous agent left: {}", e.toString());
        }
    }

    /**
     * The first half of a hand-over, after leadership was handed over: the supervisor stops and hands
     * the scheduler to the on-host deadman, and the hand-over file tells the next agent the session
     * and the deadman. False (the scheduler was stopped, or nothing ran) when there is nothing to hand over.
     */
    static boolean leave(
            AsfcSettings settings,
            AgentDirs dirs,
            CuratorFramework client,
            Supervisor supervisor,
            boolean embedded,
            Clock clock) {
        if (embedded || !settings.scheduler().stopWithAgent()) {
            LOG.warn(
                    "no hand-over: {}; stopping as usual",
                    embedded
                            ? "ZooKeeper is embedded in this agent and stops with it"
                            : "scheduler.stop-with-agent is off (no deadman to hand the scheduler to)");
            return false;
        }
        String node = settings.nodeId();
        long session;
        byte[] password;
        try {
            session = ZkSession.id(client);
            password = client.getZookeeperClient().getZooKeeper().getSessionPasswd();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("no hand-over: no ZooKeeper session to hand over ({}); stopping as usual", e.toString());
            return false;
        }
        OptionalLong deadmanPid = supervisor.handOver(dirs.handOverFifo(node));
        if (deadmanPid.isEmpty()) {
            LOG.info("no hand-over: no scheduler runs here to hand over, or its deadman did not accept");
            return false;
        }
        HandOverFile file = new HandOverFile(
                node,
                session,
                Base64.getEncoder().encodeToString(password),
                dirs.handOverFifo(node).toString(),
                deadmanPid.getAsLong(),
                ProcessHandle.current().pid(),
                clock.millis());
        try {
            file.write(dirs.handOverFile(node));
        } catch (IOException e) {
            // The deadman waits for an agent that will not know of it: it stops the scheduler at its deadline.
            LOG.error(
                    "cannot write the hand-over file {}: {}; the deadman stops the scheduler at its deadline",
                    dirs.handOverFile(node),
                    e.toString());
            return true;
        }
        LOG.info(
                "handing over: the scheduler keeps running under the on-host deadman (pid {}) for the next agent,"
                        + " which must start within {}ms (deadman-timeout) and resume ZooKeeper session 0x{}",
                deadmanPid.getAsLong(),
                S4Budget.of(settings).deadman().toMillis(),
                Long.toHexString(session));
        return true;
    }
}
