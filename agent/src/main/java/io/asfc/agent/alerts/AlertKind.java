package io.asfc.agent.alerts;

public enum AlertKind {
    START_FAILURES,
    SCHEDULER_MOVED,
    STRAY_STOPPED,
    UNFENCEABLE,
    HOST_UNREACHABLE,
    NO_ELIGIBLE_NODE,
    LEADERSHIP_CHANGE
}
