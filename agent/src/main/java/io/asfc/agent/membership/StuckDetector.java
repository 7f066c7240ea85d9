package io.asfc.agent.membership;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which agents are stuck: their heartbeat {@code seq} has not advanced for the threshold,
 * timed on the observer's own monotonic clock. Wall clocks of other hosts are never compared.
 */
final class StuckDetector {
    private final long thresholdNanos;
    private final Map<String, Track> tracks = new HashMap<>();

    StuckDetector(Duration threshold) {
        this.thresholdNanos = threshold.toNanos();
    }

    /** A node became stuck, or recovered. */
    record Change(String node, boolean stuck, long seq, Duration silentFor) {}

    private record Track(long seq, long sinceNanos, boolean stuck) {}

    /** Feeds the current seq of every live agent; returns what changed. */
    List<Change> observe(Map<String, Long> seqByNode, long nowNanos) {
        List<Change> changes = new ArrayList<>();
        tracks.keySet().retainAll(seqByNode.keySet());
        seqByNode.forEach((node, seq) -> {
            Track track = tracks.get(node);
            if (track == null || track.seq() != seq) {
                if (track != null && track.stuck()) {
                    changes.add(new Change(node, false, seq, Duration.ofNanos(nowNanos - track.sinceNanos())));
                }
                tracks.put(node, new Track(seq, nowNanos, false));
            } else if (!track.stuck() && nowNanos - track.sinceNanos() >= thresholdNanos) {
                tracks.put(node, new Track(seq, track.sinceNanos(), true));
                changes.add(new Change(node, true, seq, Duration.ofNanos(nowNanos - track.sinceNanos())));
            }
        });
        return changes;
    }

    /** Forgets everything, e.g. when this node becomes leader and starts observing afresh. */
    void reset() {
        tracks.clear();
    }
}
