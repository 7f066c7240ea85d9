package io.asfc.agent.cluster;

import io.asfc.common.zk.Assignment;
import io.asfc.common.zk.ControlRecord;

/**
 * What a supervisor acts on, read fresh after a sync: the control record (pause), the assignment
 * with its stat (its {@code mzxid} is the generation reported as {@code observed}), and the epoch.
 */
public record AssignmentSnapshot(Znode<ControlRecord> control, Znode<Assignment> assignment, long epoch) {
    public boolean paused() {
        return control.present() && control.value().paused();
    }

    /** The assignment's generation, or null when there is none. */
    public Long generation() {
        return assignment.present() ? assignment.stat().getMzxid() : null;
    }

    /** True when the assignment names {@code node}. */
    public boolean names(String node) {
        return assignment.present() && node.equals(assignment.value().node());
    }
}
