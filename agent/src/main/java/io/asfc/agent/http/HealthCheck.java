package io.asfc.agent.http;

import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.metrics.Metrics.ZkState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /health}: healthy when the agent has joined its cluster, is connected to ZooKeeper, every
 * loop makes progress and its heartbeat is being written. It reads only what the agent keeps in
 * memory, so it answers at once even when ZooKeeper or a loop hangs.
 */
final class HealthCheck {
    /**
     * @param status UP or DOWN
     * @param zookeeper the connection state: connecting, connected, suspended or lost
     * @param reasons why DOWN, empty when UP
     */
    record Report(String status, String node, String zookeeper, List<String> reasons) {
        boolean healthy() {
            return reasons.isEmpty();
        }
    }

    private final String node;
    private final Metrics metrics;

    HealthCheck(String node, Metrics metrics) {
        this.node = node;
        this.metrics = metrics;
    }

    Report check() {
        List<String> reasons = new ArrayList<>();
        ZkState zk = metrics.zookeeper();
        if (zk != ZkState.CONNECTED) {
            reasons.add(describe(zk, metrics.zookeeperFor()));
        }
        if (!metrics.loopsRunning()) {
            reasons.add("starting: the agent has not joined its cluster yet");
        }
        metrics.stuckLoops().forEach(stuck -> reasons.add("loop stuck: " + stuck));
        metrics.staleHeartbeat().ifPresent(reasons::add);
        return new Report(reasons.isEmpty() ? "UP" : "DOWN", node, zk.label(), List.copyOf(reasons));
    }

    private static String describe(ZkState zk, Duration since) {
        String s = since.toSeconds() + "s";
        return switch (zk) {
            case CONNECTING -> "not connected to ZooKeeper yet (trying for " + s + ")";
            case SUSPENDED -> "ZooKeeper connection suspended for " + s + " (the session may still be alive)";
            case LOST -> "ZooKeeper session lost " + s + " ago; reconnecting";
            case CONNECTED -> "connected to ZooKeeper";
        };
    }
}
