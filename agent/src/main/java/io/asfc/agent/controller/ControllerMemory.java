package io.asfc.agent.controller;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one leader saw and did during its term, and only during it: a new term starts empty, so
 * nothing a leader saw before it was deposed (an unreachable host, a stop over SSH) is trusted.
 * Touched only on the controller thread.
 */
final class ControllerMemory {
    /**
     * A stop of a node's scheduler over SSH, queued while the {@code scheduler} znode was at
     * {@code generation}: in flight until {@code ok} is set.
     */
    record HostStop(long generation, long atNanos, Boolean ok, String detail) {
        boolean inFlight() {
            return ok == null;
        }

        /** (b): a confirmed stop that started after the unassignment of {@code unassigned}. */
        boolean provesStoppedSince(long unassigned) {
            return Boolean.TRUE.equals(ok) && generation >= unassigned;
        }
    }

    private final Map<String, Long> missingSince = new HashMap<>();
    private final Map<String, HostStop> hostStops = new HashMap<>();
    private final Map<String, String> unreachable = new LinkedHashMap<>();

    /** When this leader first saw {@code agents/<node>} absent (monotonic nanos), or null. */
    Long missingSince(String node) {
        return missingSince.get(node);
    }

    void seenAbsent(String node, long now) {
        missingSince.putIfAbsent(node, now);
    }

    void seenPresent(String node) {
        missingSince.remove(node);
    }

    HostStop hostStop(String node) {
        return hostStops.get(node);
    }

    void hostStopQueued(String node, long generation, long now) {
        hostStops.put(node, new HostStop(generation, now, null, "in flight"));
    }

    void hostStopDone(String node, boolean ok, String detail, long now) {
        HostStop queued = hostStops.get(node);
        if (queued != null) {
            hostStops.put(node, new HostStop(queued.generation(), now, ok, detail));
        }
    }

    /** Nodes that cannot be reached over SSH, with why. */
    Map<String, String> unreachable() {
        return unreachable;
    }
}
