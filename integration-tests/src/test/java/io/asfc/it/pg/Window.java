package io.asfc.it.pg;

import io.asfc.it.pg.Observer.Identity;
import io.asfc.it.pg.Observer.Main;
import io.asfc.it.pg.Observer.Roles;
import io.asfc.it.pg.Observer.Sample;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The observer's samples over one stretch of time, and the figures of a scenario: overlap (time with two or more
 * scheduler processes, on two hosts or on one), gap (time with none), scheduler restarts, and how the scheduler and the ACTIVE role moved.
 * A sample stands for the time until the next one.
 */
final class Window {

    private final long fromNanos;
    private final long toNanos;
    private final Optional<Sample> before;
    private final List<Sample> samples;
    private final List<Roles> roles;

    Window(long fromNanos, long toNanos, Optional<Sample> before, List<Sample> samples, List<Roles> roles) {
        this.fromNanos = fromNanos;
        this.toNanos = toNanos;
        this.before = before;
        this.samples = samples;
        this.roles = roles;
    }

    /** Milliseconds in which two or more scheduler processes ran (S1 counts processes: two on one host are two). */
    long overlapMillis() {
        return millisWhere(s -> s.mains().size() >= 2);
    }

    /** How many samples saw two or more scheduler processes. */
    long overlapSamples() {
        return samples.stream().filter(s -> s.mains().size() >= 2).count();
    }

    /** Milliseconds in which no host ran a scheduler. */
    long gapMillis() {
        return millisWhere(s -> s.mains().isEmpty());
    }

    /** The samples with two or more scheduler processes, for failure messages. */
    List<String> overlaps() {
        return samples.stream()
                .filter(s -> s.mains().size() >= 2)
                .map(s -> "+" + (s.atNanos() - fromNanos) / 1_000_000 + " ms: " + s.mains())
                .toList();
    }

    /** Scheduler processes that started in this window: main processes not seen just before it. */
    int restarts() {
        Set<Identity> seen = new HashSet<>();
        before.ifPresent(b -> b.mains().forEach(m -> seen.add(m.id())));
        int started = 0;
        for (Sample s : samples) {
            for (Main m : s.mains()) {
                if (seen.add(m.id())) {
                    started++;
                }
            }
        }
        return started;
    }

    /**
     * The time from {@code referenceNanos} until the scheduler that runs at the end of the window was first seen;
     * 0 when that scheduler already ran before the window (it was never interrupted); empty when none runs at the end.
     */
    Optional<Long> recoveryMillis(long referenceNanos) {
        if (samples.isEmpty() || samples.get(samples.size() - 1).mains().size() != 1) {
            return Optional.empty();
        }
        Identity last = samples.get(samples.size() - 1).mains().get(0).id();
        if (before.map(b -> b.mains().stream().anyMatch(m -> m.id().equals(last)))
                .orElse(false)) {
            return Optional.of(0L);
        }
        return samples.stream()
                .filter(s -> s.mains().stream().anyMatch(m -> m.id().equals(last)))
                .findFirst()
                .map(s -> Math.max(0, s.atNanos() - referenceNanos) / 1_000_000);
    }

    /** The time from {@code referenceNanos} until ZooKeeper named another sole ACTIVE agent than before; or empty. */
    Optional<Long> newActiveMillis(long referenceNanos) {
        Optional<String> initial = activeBefore(referenceNanos);
        return roles.stream()
                .filter(r -> r.atNanos() >= referenceNanos)
                .filter(r -> r.active().isPresent() && !r.active().equals(initial))
                .findFirst()
                .map(r -> (r.atNanos() - referenceNanos) / 1_000_000);
    }

    /** The sole ACTIVE agent of the last role sample before {@code nanos}. */
    Optional<String> activeBefore(long nanos) {
        return roles.stream()
                .filter(r -> r.atNanos() < nanos)
                .reduce((a, b) -> b)
                .flatMap(Roles::active);
    }

    /** Where the scheduler ran, in order, e.g. {@code a → - → b} ({@code -}: nowhere, {@code a+b}, {@code a+a}: overlap). */
    String schedulerPath() {
        List<String> path = new ArrayList<>();
        before.ifPresent(b -> path.add(label(b)));
        for (Sample s : samples) {
            String label = label(s);
            if (path.isEmpty() || !path.get(path.size() - 1).equals(label)) {
                path.add(label);
            }
        }
        return String.join(" → ", path);
    }

    /** Which agent was ACTIVE, in order, e.g. {@code a → ? → b} ({@code ?}: none or not readable). */
    String activePath() {
        List<String> path = new ArrayList<>();
        activeBefore(fromNanos).ifPresent(path::add);
        for (Roles r : roles) {
            if (r.atNanos() < fromNanos) {
                continue;
            }
            String label = r.active().orElse("?");
            if (path.isEmpty() || !path.get(path.size() - 1).equals(label)) {
                path.add(label);
            }
        }
        return String.join(" → ", path);
    }

    /** The roles of the last role sample, e.g. {@code a=ACTIVE b=STANDBY c=STANDBY}. */
    String finalRoles() {
        return roles.stream()
                .reduce((a, b) -> b)
                .map(r -> r.roles().entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(" ")))
                .orElse("");
    }

    /** The longest time between two consecutive process samples in this window. */
    long longestSampleIntervalMillis() {
        long longest = 0;
        for (int i = 1; i < samples.size(); i++) {
            longest = Math.max(
                    longest, samples.get(i).atNanos() - samples.get(i - 1).atNanos());
        }
        return longest / 1_000_000;
    }

    int sampleCount() {
        return samples.size();
    }

    long millis() {
        return (toNanos - fromNanos) / 1_000_000;
    }

    private static String label(Sample s) {
        List<String> hosts = s.mains().stream().map(Main::host).sorted().toList(); // a+a: two on one host
        return hosts.isEmpty() ? "-" : String.join("+", hosts);
    }

    private long millisWhere(java.util.function.Predicate<Sample> test) {
        long nanos = 0;
        for (int i = 0; i < samples.size(); i++) {
            if (test.test(samples.get(i))) {
                long next = i + 1 < samples.size() ? samples.get(i + 1).atNanos() : toNanos;
                nanos += Math.max(0, next - samples.get(i).atNanos());
            }
        }
        return nanos / 1_000_000;
    }
}
