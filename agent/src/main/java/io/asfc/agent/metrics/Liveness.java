package io.asfc.agent.metrics;

import io.asfc.agent.zk.ZkClients;
import io.asfc.common.config.AsfcSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Whether the agent's loops still make progress. Each loop reports progress at the top of every
 * round; a loop is stuck when it has not done so for longer than its limit. A limit covers the
 * loop's interval plus the longest work a round may legitimately block on (ZooKeeper calls while
 * disconnected, a scheduler start or stop), so a stuck loop means a thread that hangs, or a
 * periodic task that died.
 */
final class Liveness {
    /** No limit is shorter than this: a probe must never restart an agent that is merely slow. */
    static final Duration MIN_LIMIT = Duration.ofSeconds(30);

    /** A loop that made no progress for {@code silentFor}, longer than its {@code limit}. */
    record Stuck(Loop loop, Duration silentFor, Duration limit) {}

    private final Map<Loop, Duration> limits = new EnumMap<>(Loop.class);
    private final LongSupplier nanoTime;
    private final AtomicLongArray last = new AtomicLongArray(Loop.values().length);
    private volatile boolean watching;

    /** @param limits how long each watched loop may go without progress; loops not listed are not watched */
    Liveness(Map<Loop, Duration> limits, LongSupplier nanoTime) {
        this.limits.putAll(limits);
        this.nanoTime = nanoTime;
        fill(nanoTime.getAsLong());
    }

    private void fill(long now) {
        for (Loop loop : Loop.values()) {
            last.set(loop.ordinal(), now);
        }
    }

    /** The limits for an agent with these settings. */
    static Map<Loop, Duration> limits(AsfcSettings s) {
        Duration zkCall = ZkClients.callBound(s.zookeeper());
        Duration zk = zkCall.multipliedBy(3); // a round makes several calls; a dropped connection ends it
        Duration heartbeat = s.controller().heartbeatInterval();
        Duration scheduler =
                s.scheduler().startTimeout().plus(s.scheduler().stopTimeout().multipliedBy(2));
        Map<Loop, Duration> limits = new EnumMap<>(Loop.class);
        limits.put(Loop.ELECTION, atLeastMin(Duration.ofSeconds(3).plus(zk)));
        limits.put(Loop.HEARTBEAT, atLeastMin(heartbeat.multipliedBy(3).plus(zk)));
        limits.put(
                Loop.SUPERVISOR,
                atLeastMin(
                        s.scheduler().checkInterval().multipliedBy(3).plus(zk).plus(scheduler)));
        limits.put(Loop.CONTROLLER, atLeastMin(heartbeat.multipliedBy(3).plus(zk)));
        return limits;
    }

    private static Duration atLeastMin(Duration d) {
        return d.compareTo(MIN_LIMIT) < 0 ? MIN_LIMIT : d;
    }

    /** Starts judging the loops, as if each had just made progress: called when they start. */
    void watchFromNow() {
        fill(nanoTime.getAsLong());
        watching = true;
    }

    boolean watching() {
        return watching;
    }

    void progress(Loop loop) {
        last.set(loop.ordinal(), nanoTime.getAsLong());
    }

    Duration sinceProgress(Loop loop) {
        return Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - last.get(loop.ordinal())));
    }

    Map<Loop, Duration> limits() {
        return Collections.unmodifiableMap(limits);
    }

    /** The watched loops that are stuck now; none before {@link #watchFromNow()}. */
    List<Stuck> stuck() {
        List<Stuck> stuck = new ArrayList<>();
        if (!watching) {
            return stuck;
        }
        for (Map.Entry<Loop, Duration> e : limits.entrySet()) {
            Duration silent = sinceProgress(e.getKey());
            if (silent.compareTo(e.getValue()) > 0) {
                stuck.add(new Stuck(e.getKey(), silent, e.getValue()));
            }
        }
        return stuck;
    }
}
