package io.asfc.agent.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One fault of a schedule: at {@code at} (simulated nanos) {@code kind} hits {@code host} for
 * {@code duration}, then heals. Written and parsed as {@code KIND host @atMs +durationMs [arg]}, so
 * a printed schedule can be replayed with {@code -Dsim.schedule="...; ..."}.
 */
public record Fault(long at, Kind kind, String host, long duration, String arg) {
    public enum Kind {
        /** Silent drop both ways between the host and ZooKeeper. */
        CUT_ZK,
        /** Only the host's packets to ZooKeeper are dropped. */
        CUT_ZK_IN,
        /** Only ZooKeeper's packets to the host are dropped. */
        CUT_ZK_OUT,
        /** SSH to and from the host hangs. */
        CUT_SSH,
        /** Both: the host is cut off. */
        CUT_ALL,
        /** The agent's JVM stops (SIGSTOP): no thread of it runs; its scheduler does. */
        FREEZE_AGENT,
        /** kill -9 of the agent; it starts again after {@code duration} (0: never). */
        CRASH_AGENT,
        /** kill -9 of the scheduler processes on the host. */
        KILL_SCHEDULER,
        /** sshd refuses connections. */
        SSH_REFUSE,
        /** sshd accepts, then hangs. */
        SSH_HANG,
        /** Every SSH call to the host takes {@code arg} ms more. */
        SSH_SLOW,
        /** Schedulers on the host take {@code arg} ms to exit on SIGTERM. */
        SLOW_EXIT,
        /** Starts on the host take {@code arg} ms (command mode: the start-command). */
        SLOW_START,
        /** Operator: {@code failover --to arg} ("" or "-": the next eligible node). */
        FAILOVER,
        /** Whichever agent leads when the next move's first phase is written is killed right after it. */
        CRASH_LEADER_ON_MOVE,
        /** Freezes whichever agent leads at {@code at}. */
        FREEZE_LEADER
    }

    public long end() {
        return at + duration;
    }

    @Override
    public String toString() {
        return kind + " " + host + " @" + at / SimConfig.MS + " +" + duration / SimConfig.MS
                + (arg == null ? "" : " " + arg);
    }

    public static Fault parse(String s) {
        String[] p = s.trim().split("\\s+");
        return new Fault(
                Long.parseLong(p[2].substring(1)) * SimConfig.MS,
                Kind.valueOf(p[0].toUpperCase(Locale.ROOT)),
                p[1],
                Long.parseLong(p[3].substring(1)) * SimConfig.MS,
                p.length > 4 ? p[4] : null);
    }

    public static List<Fault> parseAll(String s) {
        List<Fault> out = new ArrayList<>();
        for (String part : s.split(";")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        return out;
    }

    public static String format(List<Fault> faults) {
        StringBuilder sb = new StringBuilder();
        for (Fault f : faults) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(f);
        }
        return sb.toString();
    }
}
