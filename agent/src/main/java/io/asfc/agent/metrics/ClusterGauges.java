package io.asfc.agent.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cluster's assignment and quarantines as this agent sees them in ZooKeeper: every agent
 * shows the same values, so a dashboard or rule takes {@code max by (node)} over them. A node
 * appears in the per-node gauges once it is listed in {@code asfc.nodes} or seen in a znode, and
 * stays (at 0) from then on.
 */
final class ClusterGauges {
    private final Gauge assigned;
    private final Gauge moving;
    private final Gauge quarantined;
    private final Set<String> known = ConcurrentHashMap.newKeySet();

    ClusterGauges(PrometheusRegistry registry, List<String> nodes) {
        assigned = Gauge.builder()
                .withoutExemplars()
                .name("asfc_scheduler_assigned")
                .help("1 for the node the scheduler znode names (where the scheduler must run), 0 for the others")
                .labelNames("node")
                .register(registry);
        moving = Gauge.builder()
                .withoutExemplars()
                .name("asfc_scheduler_moving")
                .help("1 while the scheduler znode names no node (a move is under way, or nothing is assigned)")
                .register(registry);
        quarantined = Gauge.builder()
                .withoutExemplars()
                .name("asfc_node_quarantined")
                .help("1 for each node whose nodes/<node> record says quarantined (too many failures), else 0")
                .labelNames("node")
                .register(registry);
        moving.set(0); // nothing read yet: shown as not moving, so that a starting agent raises no alarm
        nodes.forEach(this::know);
    }

    synchronized void assignment(Optional<String> node) {
        node.ifPresent(this::know);
        for (String n : known) {
            assigned.labelValues(n).set(node.filter(n::equals).isPresent() ? 1 : 0);
        }
        moving.set(node.isPresent() ? 0 : 1);
    }

    synchronized void quarantined(Set<String> nodes) {
        nodes.forEach(this::know);
        for (String n : known) {
            quarantined.labelValues(n).set(nodes.contains(n) ? 1 : 0);
        }
    }

    private void know(String node) {
        if (known.add(node)) {
            assigned.labelValues(node).set(0);
            quarantined.labelValues(node).set(0);
        }
    }
}
