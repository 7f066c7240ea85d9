package io.asfc.agent.cluster;

import io.asfc.common.zk.ActiveRecord;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.time.Instant;
import java.util.List;

/**
 * What ZooKeeper says about one cluster at one moment, as {@code metadata} shows it. Fields are
 * null when the znode is absent or holds malformed data.
 *
 * @param epoch the epoch znode's version (0 before the first leader)
 * @param control operator requests (pause, failover) and the leader's last answer
 * @param nodes the leader's per-node records (quarantines)
 */
public record ClusterSnapshot(
        String cluster,
        String path,
        Instant now,
        ActiveRecord active,
        long epoch,
        Assignment scheduler,
        ControlRecord control,
        List<NodeRecord> nodes,
        List<Agent> agents) {

    /**
     * One live agent.
     *
     * @param record null when its znode holds malformed data
     * @param modifiedAt when ZooKeeper last saw its heartbeat (the ensemble's clock)
     */
    public record Agent(String node, AgentRecord record, Instant modifiedAt) {}
}
