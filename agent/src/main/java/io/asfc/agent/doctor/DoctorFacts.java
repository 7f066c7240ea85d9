package io.asfc.agent.doctor;

import io.asfc.agent.cluster.ClusterZnodes;
import io.asfc.agent.cluster.Znode;
import io.asfc.common.ssh.SshPhases;
import io.asfc.common.zk.ActiveRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything {@code doctor} found out, gathered by {@link FactGatherer} (the effects) and judged by
 * {@link Diagnosis} (pure). {@code znodes} and {@code active} are null when ZooKeeper could not be
 * reached.
 *
 * @param checkedAt this host's clock when the facts were gathered: what request expiries are judged by
 * @param epoch the epoch znode's version (0 before the first leader)
 * @param ssh each node's timed SSH probe; empty when SSH is off
 */
public record DoctorFacts(
        String cluster,
        String path,
        Instant checkedAt,
        Config config,
        ZooKeeper zookeeper,
        Znode<ActiveRecord> active,
        long epoch,
        ClusterZnodes znodes,
        Map<String, SshPhases> ssh) {

    /**
     * What the local config says doctor needs.
     *
     * @param s4Problem why the S4 budget of this config does not hold; empty when it holds
     * @param maxClockSkew the largest clock skew of an agent against ZooKeeper that is healthy
     */
    public record Config(
            List<String> nodes,
            Set<String> agentless,
            Optional<String> s4Problem,
            boolean sshEnabled,
            Duration commandTimeout,
            Duration pollInterval,
            Duration maxClockSkew) {}

    /**
     * @param latency one round trip to the ensemble (an exists call), once connected; null if unreachable
     * @param error why ZooKeeper could not be reached; null when it was
     */
    public record ZooKeeper(String connect, Duration latency, String error) {
        public boolean reachable() {
            return error == null;
        }
    }

    public boolean zkReachable() {
        return zookeeper.reachable();
    }
}
