package io.asfc.agent.http;

import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterSnapshot;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.metrics.Metrics.ZkState;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.AgentRecord.Role;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /status}: this agent's own view (role, ZooKeeper connection, local scheduler, heartbeat)
 * and the cluster as {@code metadata --json} reads it from ZooKeeper (epoch, assignment, agents).
 */
public final class StatusView {
    private static final Logger LOG = LoggerFactory.getLogger(StatusView.class);

    /**
     * What {@code /status} answers. The cluster fields are null when ZooKeeper could not be read;
     * {@code error} then says why.
     *
     * @param role ACTIVE or STANDBY, as this agent's election holds it now
     * @param scheduler the local scheduler, as this agent last published it
     * @param heartbeat this agent's last heartbeat
     * @param epoch the cluster's epoch (the epoch znode's version)
     * @param assignment the {@code scheduler} znode: where the scheduler must run
     */
    public record Status(
            String node,
            Role role,
            String zookeeper,
            AgentRecord.SchedulerState scheduler,
            AgentRecord.Heartbeat heartbeat,
            String cluster,
            Instant now,
            ActiveRecord active,
            Long epoch,
            Assignment assignment,
            ControlRecord control,
            List<NodeRecord> nodes,
            List<ClusterSnapshot.Agent> agents,
            String error) {}

    private final String node;
    private final BooleanSupplier active;
    private final Supplier<AgentRecord> published;
    private final ClusterReader reader;
    private final Metrics metrics;

    /**
     * @param active whether this agent is ACTIVE now
     * @param published this agent's own {@code agents/<node>} record as it last wrote it
     */
    public StatusView(
            String node,
            BooleanSupplier active,
            Supplier<AgentRecord> published,
            ClusterReader reader,
            Metrics metrics) {
        this.node = node;
        this.active = active;
        this.published = published;
        this.reader = reader;
        this.metrics = metrics;
    }

    Status read() {
        Role role = active.getAsBoolean() ? Role.ACTIVE : Role.STANDBY;
        AgentRecord own = published.get();
        ZkState zk = metrics.zookeeper();
        if (zk != ZkState.CONNECTED) {
            return local(role, own, zk, "not connected to ZooKeeper (" + zk.label() + ")");
        }
        try {
            ClusterSnapshot s = reader.read();
            return new Status(
                    node,
                    role,
                    zk.label(),
                    own.scheduler(),
                    own.heartbeat(),
                    s.cluster(),
                    s.now(),
                    s.active(),
                    s.epoch(),
                    s.scheduler(),
                    s.control(),
                    s.nodes(),
                    s.agents(),
                    null);
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.debug("/status could not read the cluster", e);
            return local(role, own, zk, "could not read the cluster from ZooKeeper: " + e);
        }
    }

    private Status local(Role role, AgentRecord own, ZkState zk, String error) {
        return new Status(
                node,
                role,
                zk.label(),
                own.scheduler(),
                own.heartbeat(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                error);
    }
}
