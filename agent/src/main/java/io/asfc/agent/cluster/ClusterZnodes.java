package io.asfc.agent.cluster;

import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import java.util.SortedMap;

/**
 * The znodes every reader of the cluster decides on, read fresh after a sync by {@link
 * ClusterReader#znodes}: the assignment, the control record, and every agent and node record by
 * node name. Garbage in any of them is {@link Znode.State#MALFORMED}, never an error; a record of
 * a newer major schema is {@link Znode.State#NEWER}.
 */
public record ClusterZnodes(
        Znode<Assignment> assignment,
        Znode<ControlRecord> control,
        SortedMap<String, Znode<AgentRecord>> agents,
        SortedMap<String, Znode<NodeRecord>> nodes) {

    /** True when any of them was written by an agent of a newer major schema: a leader must not act. */
    public boolean anyNewer() {
        return newer(assignment)
                || newer(control)
                || agents.values().stream().anyMatch(ClusterZnodes::newer)
                || nodes.values().stream().anyMatch(ClusterZnodes::newer);
    }

    private static boolean newer(Znode<?> z) {
        return z.state() == Znode.State.NEWER;
    }
}
