package io.asfc.common.zk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.time.Instant;

/**
 * The leader-owned {@code nodes/<node>} znode: why a node is not eligible to run the scheduler, or
 * what the leader remembers of its past failures. Every field after {@code at} was added with the
 * quarantine backoff and the cordon; a record without them (an older leader's) reads them as null.
 *
 * @param quarantined true after the node failed {@code failures} times in a row, until {@code
 *     until}; lifted earlier when its agent reports a fresh start (failures back to 0)
 * @param failures the failures in a row that quarantined it (as its agent or the leader counted them)
 * @param until when the quarantine ends (the leader's wall clock); null in an older record, which
 *     then ends one {@code quarantine-backoff} after {@code at}
 * @param backoffMillis how long this quarantine lasts; the next one lasts twice as long
 * @param count quarantines in a row of this node, without a clean run between them
 * @param failuresAtLift set when the quarantine was lifted for one attempt: the node's failure count
 *     then; one failure more quarantines it again, a count below it (a clean run) clears the record
 * @param liftedAt when the quarantine was last lifted
 * @param cordoned an operator took the node out of rotation: never chosen to run the scheduler
 * @param cordonedBy who cordoned it ({@code user@host})
 */
public record NodeRecord(
        String node,
        @JsonProperty(required = true) boolean quarantined,
        int failures,
        String reason,
        Instant at,
        Instant until,
        Long backoffMillis,
        Integer count,
        Integer failuresAtLift,
        Instant liftedAt,
        Boolean cordoned,
        String cordonedBy,
        Instant cordonedAt) {

    public NodeRecord {
        Names.require("node", node);
    }

    /** A quarantine as an older leader wrote it: no backoff, no cordon. */
    public NodeRecord(String node, boolean quarantined, int failures, String reason, Instant at) {
        this(node, quarantined, failures, reason, at, null, null, null, null, null, null, null, null);
    }

    /** A record that only says {@code node} is cordoned. */
    public static NodeRecord cordon(String node, String by, Instant at) {
        return new NodeRecord(node, false, 0, null, null, null, null, null, null, null, true, by, at);
    }

    /** Quarantines the node until {@code at + backoff}, the {@code count}-th time in a row; keeps a cordon. */
    public NodeRecord quarantine(int newFailures, String why, Instant now, Duration backoff, int newCount) {
        return new NodeRecord(
                node,
                true,
                newFailures,
                why,
                now,
                now.plus(backoff),
                backoff.toMillis(),
                newCount,
                null,
                liftedAt,
                cordoned,
                cordonedBy,
                cordonedAt);
    }

    /** The quarantine lifted at {@code now} for one attempt: one failure above {@code failuresNow} ends it. */
    public NodeRecord lift(Instant now, int failuresNow) {
        return new NodeRecord(
                node,
                false,
                failures,
                reason,
                at,
                until,
                backoffMillis,
                count,
                failuresNow,
                now,
                cordoned,
                cordonedBy,
                cordonedAt);
    }

    /**
     * The node's failures forgotten at {@code now}. Its agent still reports {@code failuresNow} (it
     * clears its count only after a clean run), so only a count above that is a new failure. Null
     * when nothing is left in the record.
     */
    public NodeRecord reset(Instant now, int failuresNow) {
        if (failuresNow <= 0) {
            return withoutFailures();
        }
        return new NodeRecord(
                node,
                false,
                0,
                "failures reset",
                now,
                null,
                null,
                null,
                failuresNow,
                now,
                cordoned,
                cordonedBy,
                cordonedAt);
    }

    /** The same record, cordoned by {@code by} at {@code now}. */
    public NodeRecord withCordon(String by, Instant now) {
        return new NodeRecord(
                node,
                quarantined,
                failures,
                reason,
                at,
                until,
                backoffMillis,
                count,
                failuresAtLift,
                liftedAt,
                true,
                by,
                now);
    }

    /** The same record without its cordon; null when nothing else is left in it (the znode goes). */
    public NodeRecord withoutCordon() {
        NodeRecord r = new NodeRecord(
                node,
                quarantined,
                failures,
                reason,
                at,
                until,
                backoffMillis,
                count,
                failuresAtLift,
                liftedAt,
                null,
                null,
                null);
        return r.empty() ? null : r;
    }

    /** The record with its failures forgotten: only a cordon is kept; null when there is none. */
    public NodeRecord withoutFailures() {
        return hasCordon() ? cordon(node, cordonedBy, cordonedAt) : null;
    }

    public boolean hasCordon() {
        return Boolean.TRUE.equals(cordoned);
    }

    /** Lifted for one attempt, and that attempt has not ended yet. */
    public boolean onTrial() {
        return !quarantined && failuresAtLift != null;
    }

    /** Quarantines in a row so far (a quarantine of an older leader counts as one). */
    public int quarantines() {
        if (count != null) {
            return count;
        }
        return quarantined ? 1 : 0;
    }

    /** When the quarantine ends; an older record without {@code until} ends {@code backoff} after {@code at}. */
    public Instant endsAt(Duration backoff) {
        if (until != null) {
            return until;
        }
        return at == null ? Instant.EPOCH : at.plus(backoff);
    }

    private boolean empty() {
        return !quarantined && failuresAtLift == null && count == null;
    }
}
