package io.asfc.agent.events;

import io.asfc.common.concurrent.Threads;
import io.asfc.common.zk.EventRecord;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkPaths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail: persistent sequential {@code events/event-<seq>} nodes, trimmed to the newest
 * {@code retain}. Recording is best effort: a failure is logged and never stops the caller.
 */
public final class EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);

    private final CuratorFramework client;
    private final ZkPaths paths;
    private final String nodeId;
    private final int retain;
    private final Clock clock;

    public EventLog(CuratorFramework client, ZkPaths paths, String nodeId, int retain, Clock clock) {
        this.client = client;
        this.paths = paths;
        this.nodeId = nodeId;
        this.retain = retain;
        this.clock = clock;
    }

    /** One stored event with its sequence number. */
    public record Stored(long seq, EventRecord event) {}

    public void record(String type, String detail) {
        EventRecord event = new EventRecord(clock.instant(), nodeId, type, detail);
        LOG.info("event {}: {}", type, detail);
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                    .forPath(paths.eventPrefix(), Json.encode(event));
            trim();
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            LOG.warn("could not record event {} ({}) in {}", type, detail, paths.events(), e);
        }
    }

    /** The newest events, newest first; malformed ones are skipped (and logged). */
    public List<Stored> recent(int limit) throws Exception {
        List<String> names = sortedNames();
        List<Stored> result = new ArrayList<>();
        for (int i = names.size() - 1; i >= 0 && result.size() < limit; i--) {
            String path = ZKPaths.makePath(paths.events(), names.get(i));
            try {
                Optional<EventRecord> event = Json.decode(path, client.getData().forPath(path), EventRecord.class);
                long seq = sequenceOf(names.get(i));
                event.ifPresent(e -> result.add(new Stored(seq, e)));
            } catch (KeeperException.NoNodeException e) {
                // trimmed by another agent while we were reading
            }
        }
        return result;
    }

    private void trim() throws Exception {
        List<String> names = sortedNames();
        for (int i = 0; i < names.size() - retain; i++) {
            try {
                client.delete().forPath(ZKPaths.makePath(paths.events(), names.get(i)));
            } catch (KeeperException.NoNodeException e) {
                // another agent trimmed it first
            }
        }
    }

    private List<String> sortedNames() throws Exception {
        try {
            List<String> names = new ArrayList<>(client.getChildren().forPath(paths.events()));
            names.removeIf(n -> sequenceOf(n) < 0);
            names.sort(Comparator.comparingLong(EventLog::sequenceOf));
            return names;
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    private static long sequenceOf(String name) {
        String prefix = ZKPaths.getNodeFromPath(ZKPaths.makePath("/", "event-"));
        if (!name.startsWith(prefix)) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1; // not one of ours, e.g. created by hand with zkCli
        }
    }
}
