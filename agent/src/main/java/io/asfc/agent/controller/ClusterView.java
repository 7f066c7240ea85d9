package io.asfc.agent.controller;

import io.asfc.agent.cluster.ClusterReader;
import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.cluster.Znode;
import io.asfc.common.zk.AgentRecord;
import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;
import io.asfc.common.zk.NodeRecord;
import io.asfc.common.zk.ZkPaths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;

/**
 * What the leader reads, fresh, before each decision, plus the nodes it cannot reach over SSH (node
 * to reason).
 *
 * @param nodes every readable {@code nodes/<node>} record (quarantined, lifted for one attempt, or cordoned)
 */
record ClusterView(
        Znode<Assignment> assignment,
        Map<String, Znode<AgentRecord>> agents,
        Znode<ControlRecord> control,
        Map<String, NodeRecord> nodes,
        Map<String, String> unreachable) {

    static ClusterView read(CuratorFramework client, ZkPaths paths) {
        return of(ClusterReader.znodes(client, paths));
    }

    static ClusterView of(ClusterZnodes z) {
        Map<String, NodeRecord> nodes = new LinkedHashMap<>();
        z.nodes().forEach((node, record) -> {
            if (record.present()) {
                nodes.put(node, record.value());
            }
        });
        return new ClusterView(z.assignment(), new LinkedHashMap<>(z.agents()), z.control(), nodes, Map.of());
    }

    /** The same view, with what the controller knows of nodes it cannot reach over SSH. */
    ClusterView withUnreachable(Map<String, String> nodes) {
        return new ClusterView(assignment, agents, control, this.nodes, Map.copyOf(nodes));
    }

    /** The same view with {@code nodes/<node>} as {@code record} (null: removed), as a decision's writes leave it. */
    ClusterView withNode(String node, NodeRecord record) {
        Map<String, NodeRecord> changed = new LinkedHashMap<>(nodes);
        if (record == null) {
            changed.remove(node);
        } else {
            changed.put(node, record);
        }
        return new ClusterView(assignment, agents, control, changed, unreachable);
    }

    /** The nodes whose record says quarantined. */
    Map<String, NodeRecord> quarantined() {
        Map<String, NodeRecord> q = new LinkedHashMap<>();
        nodes.forEach((node, r) -> {
            if (r.quarantined()) {
                q.put(node, r);
            }
        });
        return q;
    }

    /** The node's record, or null. */
    NodeRecord node(String node) {
        return nodes.get(node);
    }

    boolean cordoned(String node) {
        NodeRecord r = nodes.get(node);
        return r != null && r.hasCordon();
    }

    boolean paused() {
        return control.present() && control.value().paused();
    }

    /** A live agent whose record could be read. */
    AgentRecord agent(String node) {
        Znode<AgentRecord> z = agents.get(node);
        return z != null && z.present() ? z.value() : null;
    }
}
