package io.asfc.common.zk;

import org.apache.curator.utils.ZKPaths;

/** Every znode path of one asfc cluster. No other class builds paths. */
public final class ZkPaths {
    private final String cluster;

    public ZkPaths(String root, String clusterName) {
        this.cluster = ZKPaths.makePath(root, clusterName);
    }

    /** {@code <root>/<cluster>}: the whole subtree of this cluster. */
    public String cluster() {
        return cluster;
    }

    /** Curator LeaderLatch participants. */
    public String leader() {
        return ZKPaths.makePath(cluster, "leader");
    }

    /** Ephemeral, written by the leader: who is ACTIVE, at which epoch. */
    public String active() {
        return ZKPaths.makePath(cluster, "active");
    }

    /** Persistent, versioned: every leadership bumps its version, which is the epoch. */
    public String epoch() {
        return ZKPaths.makePath(cluster, "epoch");
    }

    /** Persistent: where the scheduler must run. */
    public String scheduler() {
        return ZKPaths.makePath(cluster, "scheduler");
    }

    public String agents() {
        return ZKPaths.makePath(cluster, "agents");
    }

    public String agent(String node) {
        return ZKPaths.makePath(agents(), node);
    }

    public String nodes() {
        return ZKPaths.makePath(cluster, "nodes");
    }

    public String node(String node) {
        return ZKPaths.makePath(nodes(), node);
    }

    public String control() {
        return ZKPaths.makePath(cluster, "control");
    }

    public String events() {
        return ZKPaths.makePath(cluster, "events");
    }

    /** The prefix of the sequential event nodes. */
    public String eventPrefix() {
        return ZKPaths.makePath(events(), "event-");
    }
}
