package io.asfc.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Reads an asfc cluster's znodes straight from ZooKeeper with its own Curator client, independently of the agents
 * and of {@code bin/asfc-agent}. Each {@link #read()} is a fresh set of reads, never a cache.
 */
public final class ClusterObserver implements AutoCloseable {

    /** The default cluster under the default root. */
    static final String CLUSTER = "/airflow/failover/default";

    private static final int SESSION_TIMEOUT_MILLIS = 30_000;
    private static final int CONNECTION_TIMEOUT_MILLIS = 10_000;

    private final CuratorFramework client;
    private final ObjectMapper mapper = new ObjectMapper();

    private ClusterObserver(CuratorFramework client) {
        this.client = client;
    }

    public static ClusterObserver connect(String connectString) throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.newClient(
                connectString,
                SESSION_TIMEOUT_MILLIS,
                CONNECTION_TIMEOUT_MILLIS,
                new ExponentialBackoffRetry(100, 10, 1000));
        client.start();
        if (!client.blockUntilConnected(CONNECTION_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
            client.close();
            throw new AssertionError("the observer cannot connect to ZooKeeper at " + connectString);
        }
        return new ClusterObserver(client);
    }

    static String path(String relative) {
        return CLUSTER + "/" + relative;
    }

    /** What the cluster's znodes say now. */
    public ClusterView read() throws Exception {
        Optional<JsonNode> active = json(path("active"), new Stat());
        Stat epochStat = new Stat();
        Optional<JsonNode> epoch = json(path("epoch"), epochStat);
        Map<String, JsonNode> agents = new TreeMap<>();
        Map<String, Long> agentSessions = new TreeMap<>();
        for (String node : children("agents")) {
            Stat stat = new Stat();
            json(path("agents/" + node), stat).ifPresent(record -> {
                agents.put(node, record);
                agentSessions.put(node, stat.getEphemeralOwner());
            });
        }
        return new ClusterView(
                active.orElse(null),
                epoch.isPresent() ? epochStat.getVersion() : -1,
                epoch.orElse(null),
                agents,
                agentSessions,
                children("leader"));
    }

    /** The children of {@code relative} under the cluster, sorted; empty when it does not exist. */
    List<String> children(String relative) throws Exception {
        try {
            List<String> names = new ArrayList<>(client.getChildren().forPath(path(relative)));
            names.sort(null);
            return names;
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** The JSON in the znode at {@code relative} under the cluster (e.g. {@code scheduler}), if it exists. */
    public Optional<JsonNode> znode(String relative) throws Exception {
        return json(path(relative), new Stat());
    }

    private Optional<JsonNode> json(String path, Stat stat) throws Exception {
        byte[] data;
        try {
            data = client.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(mapper.readTree(data));
        } catch (IOException e) {
            throw new AssertionError(path + " does not hold JSON: " + new String(data, StandardCharsets.UTF_8), e);
        }
    }

    @Override
    public void close() {
        client.close();
    }

    /**
     * One reading of the cluster.
     *
     * @param active the {@code active} znode, or null when there is none
     * @param epochVersion the {@code epoch} znode's version (the epoch), or -1 when there is none
     * @param agents each {@code agents/<node>} record by node
     * @param agentSessions the ZooKeeper session that owns each {@code agents/<node>}
     * @param latch the leader latch's participant nodes
     */
    public record ClusterView(
            JsonNode active,
            long epochVersion,
            JsonNode epoch,
            Map<String, JsonNode> agents,
            Map<String, Long> agentSessions,
            List<String> latch) {

        Optional<String> activeNode() {
            return Optional.ofNullable(active).map(a -> a.path("node").asText());
        }

        long activeEpoch() {
            return active == null ? -1 : active.path("epoch").asLong(-1);
        }

        /** The nodes whose agent record publishes {@code role}. */
        List<String> withRole(String role) {
            return agents.entrySet().stream()
                    .filter(e -> role.equals(e.getValue().path("role").asText()))
                    .map(Map.Entry::getKey)
                    .toList();
        }

        Optional<String> roleOf(String node) {
            return Optional.ofNullable(agents.get(node)).map(r -> r.path("role").asText());
        }

        Optional<Long> pidOf(String node) {
            return Optional.ofNullable(agents.get(node)).map(r -> r.path("pid").asLong());
        }

        /**
         * The node that is ACTIVE by both accounts: {@code active} names it, and its own record says ACTIVE, and no
         * other record says ACTIVE.
         */
        public Optional<String> soleActive() {
            Optional<String> named = activeNode();
            return named.isPresent() && withRole("ACTIVE").equals(List.of(named.get())) ? named : Optional.empty();
        }

        @Override
        public String toString() {
            return "active=" + active + "\nepoch version=" + epochVersion + ", epoch=" + epoch + "\nlatch=" + latch
                    + "\nagents=" + agents + "\n";
        }
    }
}
