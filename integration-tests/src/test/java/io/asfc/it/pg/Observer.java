package io.asfc.it.pg;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.common.testing.Lifetimes;
import io.asfc.common.testing.ProcessSampler;
import io.asfc.it.ClusterObserver;
import io.asfc.it.ClusterObserver.ClusterView;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The proving ground's witness. A sampler outside this JVM ({@link ProcessSampler}) scans the root's {@code /proc}
 * every {@link #PROCESS_INTERVAL}, each scheduler process attributed to the host whose PID namespace it is in;
 * another reads the agents' roles and the assignment from ZooKeeper every {@link #ROLE_INTERVAL}. Every sample is
 * kept; {@link #window} turns a stretch of them into figures.
 */
final class Observer implements AutoCloseable {

    /** The time between the starts of two process samples; a scan takes about a millisecond. */
    static final Duration PROCESS_INTERVAL = Duration.ofMillis(10);

    static final Duration ROLE_INTERVAL = Duration.ofMillis(100);
    /** The sampling period promised by the issue; longer gaps between samples are counted and reported. */
    static final Duration PROMISED_PERIOD = Duration.ofMillis(50);
    /**
     * A gap between two process samples (by the sampler's clock) longer than this voids the observer's result ({@link
     * #problems}): it stalled or died, and an overlap could have hidden in between.
     */
    static final Duration MAX_GAP = Duration.ofMillis(100);
    /** How long {@link #problems} waits for the samples taken before it to be read. */
    private static final Duration PATIENCE = Duration.ofSeconds(5);

    /** A process and its start time (clock ticks since boot): together they never name another process. */
    record Identity(long pid, long startTicks) {}

    /** A scheduler main process and the host it runs on. */
    record Main(String host, Identity id) {}

    /** One look at every host's process table: every scheduler main process (S1 counts processes, not hosts). */
    record Sample(long atNanos, List<Main> mains) {}

    /** One look at ZooKeeper: the sole ACTIVE agent (if exactly one), every agent's role, the assigned node. */
    record Roles(long atNanos, Optional<String> active, Map<String, String> roles, Optional<String> assigned) {}

    /** The title {@code airflow_standin.py} gives its main process; helpers have other titles and {@code --role}. */
    private static final String MAIN_TITLE = "airflow scheduler";

    private static final String HELPER_FLAG = "\0--role\0";

    private final Predicate<String> isMain;
    private final Supplier<Map<String, String>> hostsByNamespace;
    /** The hosts without an agent, whose scheduler the ACTIVE controller runs over SSH. */
    private final java.util.Set<String> agentless;

    private final ClusterObserver cluster;
    /** The schedulers' lifetime lock, when the workload keeps one. */
    private final Optional<Lifetimes> lifetimes;

    private final List<Sample> samples = new ArrayList<>();
    private final List<Roles> roles = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong roleErrors = new AtomicLong();
    private final AtomicLong twoMainsShown = new AtomicLong();
    private ProcessSampler processSampler;
    private final Thread roleSampler;

    private Observer(
            Predicate<String> isMain,
            Supplier<Map<String, String>> hostsByNamespace,
            java.util.Set<String> agentless,
            ClusterObserver cluster,
            Optional<Lifetimes> lifetimes) {
        this.isMain = isMain;
        this.hostsByNamespace = hostsByNamespace;
        this.agentless = agentless;
        this.cluster = cluster;
        this.lifetimes = lifetimes;
        this.roleSampler = daemon("pg-observer-roles", this::sampleRoles);
    }

    /**
     * Starts sampling the scheduler main processes, those whose command line ({@code /proc/<pid>/cmdline}, arguments
     * separated by NUL) {@code isMain} accepts, each attributed to the host that {@code hostsByNamespace} maps its PID
     * namespace to (hosts with an agent and the {@code agentless} ones alike), and the roles that {@code cluster}
     * reads. A fork of a main that has not exec'd (same command line as its parent) is not a main of its own. Only
     * processes whose command line contains {@code marker} are sampled: every main's must. With {@code lifetimes}, it
     * also reads the schedulers' lifetime journal on every process sample.
     */
    static Observer start(
            Predicate<String> isMain,
            String marker,
            Supplier<Map<String, String>> hostsByNamespace,
            java.util.Set<String> agentless,
            ClusterObserver cluster,
            Optional<Lifetimes> lifetimes) {
        Observer observer = new Observer(isMain, hostsByNamespace, agentless, cluster, lifetimes);
        observer.processSampler = ProcessSampler.start(List.of(marker), PROCESS_INTERVAL, observer::sampleProcesses);
        observer.roleSampler.start();
        return observer;
    }

    private void sampleProcesses(ProcessSampler.Sample taken) {
        if (lifetimes.isPresent()) {
            try {
                lifetimes.get().poll(); // each new scheduler's death is awaited from now on
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e); // kept by the sampler, a problem of the run (problems())
            }
        }
        List<Main> mains = scan(taken, hostsByNamespace.get());
        synchronized (samples) {
            samples.add(new Sample(taken.atNanos(), List.copyOf(mains)));
        }
    }

    /**
     * The main process of the stand-in scheduler whose command line holds {@code marker}: its title is {@code airflow
     * scheduler}, and it is not a helper (those have other titles and {@code --role}).
     */
    static Predicate<String> standInMain(String marker) {
        return cmdline ->
                cmdline.startsWith(MAIN_TITLE + "\0") && cmdline.contains(marker) && !cmdline.contains(HELPER_FLAG);
    }

    /**
     * The scheduler main processes of every host in one sample: live processes in a host's PID namespace whose command
     * line {@link #isMain} accepts, without the forks of a main.
     */
    private List<Main> scan(ProcessSampler.Sample taken, Map<String, String> hosts) {
        Map<Long, ProcessSampler.Proc> candidates = new HashMap<>();
        Map<Long, String> hostOf = new HashMap<>();
        for (ProcessSampler.Proc p : taken.processes().values()) {
            String host = hosts.get(p.pidNamespace());
            if (host != null && !p.info().isZombie() && isMain.test(p.argv())) {
                candidates.put(p.info().pid(), p);
                hostOf.put(p.info().pid(), host);
            }
        }
        // One main per session: a later process of a main's session that looks like a main is one of its forks that
        // has not taken its own title yet (the health-check server, an executor's worker forked before the executor
        // retitled itself), and the sampler may see an older title of a process than the process has (a read of the
        // command line of a process busy mapping memory waits, and the sample does not). asfc starts every scheduler
        // in a session of its own; two schedulers in one session would still be two for the lifetime lock.
        Map<String, ProcessSampler.Proc> firstOfSession = new HashMap<>();
        for (ProcessSampler.Proc p : candidates.values()) {
            firstOfSession.merge(hostOf.get(p.info().pid()) + "/" + p.info().sid(), p, Observer::earlier);
        }
        List<Main> mains = new ArrayList<>();
        for (ProcessSampler.Proc p : firstOfSession.values()) {
            mains.add(new Main(
                    hostOf.get(p.info().pid()),
                    new Identity(p.info().pid(), p.info().startTicks())));
        }
        if (mains.size() >= 2 && twoMainsShown.getAndIncrement() < 10) {
            // what the sampler said of each process seen as a main, for a reader of the log (the lifetime lock decides)
            System.out.println("Observer: " + mains.size() + " main processes in one sample: "
                    + candidates.values().stream()
                            .map(p -> "pid " + p.info().pid() + " ppid "
                                    + p.info().ppid() + " state " + p.info().state() + " on "
                                    + hostOf.get(p.info().pid()) + " '"
                                    + p.argv().replace('\0', ' ').strip() + "'")
                            .toList());
        }
        return mains;
    }

    /** The one of two processes that started first (the lower pid when they started in the same tick). */
    private static ProcessSampler.Proc earlier(ProcessSampler.Proc a, ProcessSampler.Proc b) {
        long ta = a.info().startTicks();
        long tb = b.info().startTicks();
        return ta < tb || (ta == tb && a.info().pid() < b.info().pid()) ? a : b;
    }

    private void sampleRoles() {
        while (!closed.get()) {
            try {
                long at = System.nanoTime();
                ClusterView view = cluster.read();
                Map<String, String> byNode = new TreeMap<>();
                view.agents()
                        .forEach((node, record) ->
                                byNode.put(node, record.path("role").asText()));
                Optional<String> assigned = cluster.znode("scheduler")
                        .map(s -> s.path("node"))
                        .filter(n -> !n.isNull())
                        .map(JsonNode::asText);
                synchronized (roles) {
                    roles.add(new Roles(at, view.soleActive(), byNode, assigned));
                }
                Thread.sleep(ROLE_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                roleErrors.incrementAndGet(); // ZooKeeper down or unreachable: counted and reported
            }
        }
    }

    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    List<Roles> roles() {
        synchronized (roles) {
            return List.copyOf(roles);
        }
    }

    Optional<Sample> latest() {
        synchronized (samples) {
            return samples.isEmpty() ? Optional.empty() : Optional.of(samples.get(samples.size() - 1));
        }
    }

    Optional<Roles> latestRoles() {
        synchronized (roles) {
            return roles.isEmpty() ? Optional.empty() : Optional.of(roles.get(roles.size() - 1));
        }
    }

    /** The last {@code count} process samples in which the main processes changed, for failure messages. */
    String recentChanges(int count) {
        List<Sample> all = samples();
        List<Sample> changes = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (i == 0 || !all.get(i).mains().equals(all.get(i - 1).mains())) {
                changes.add(all.get(i));
            }
        }
        long now = System.nanoTime();
        return changes.subList(Math.max(0, changes.size() - count), changes.size()).stream()
                        .map(s -> (s.atNanos() - now) / 1_000_000 + " ms: " + s.mains())
                        .collect(java.util.stream.Collectors.joining("; "))
                + "; " + processSampler.describe();
    }

    /** The host that runs the only scheduler now, if exactly one does. */
    Optional<String> schedulerHost() {
        return latest().map(Sample::mains).filter(m -> m.size() == 1).map(m -> m.get(0)
                .host());
    }

    /**
     * Whether the cluster has settled: for the last {@code stable}, every sample saw one and the same scheduler
     * process, on a host whose agent is among {@code agents} or on an agentless host; ZooKeeper names one ACTIVE
     * agent, lists exactly {@code agents}, and assigns the node that runs it.
     */
    boolean settled(java.util.Set<String> agents, Duration stable) {
        long now = System.nanoTime();
        List<Sample> recent = samples().stream()
                .filter(s -> now - s.atNanos() <= stable.toNanos())
                .toList();
        Optional<Roles> r = latestRoles()
                .filter(x -> now - x.atNanos() < Duration.ofSeconds(1).toNanos());
        if (recent.size() < 5 || r.isEmpty()) {
            return false;
        }
        Main first = recent.get(0).mains().size() == 1 ? recent.get(0).mains().get(0) : null;
        boolean oneAndTheSame = first != null
                && recent.stream()
                        .allMatch(s -> s.mains().size() == 1 && s.mains().get(0).equals(first));
        return oneAndTheSame
                && r.get().active().isPresent()
                && r.get().roles().keySet().equals(agents)
                && r.get().assigned().filter(first.host()::equals).isPresent()
                // not a stale assignment to a host whose agent is gone
                && (agents.contains(first.host()) || agentless.contains(first.host()));
    }

    /** The figures of the samples between {@code fromNanos} and {@code toNanos}. */
    Window window(long fromNanos, long toNanos) {
        List<Sample> all = samples();
        List<Sample> in = all.stream()
                .filter(s -> s.atNanos() >= fromNanos && s.atNanos() <= toNanos)
                .toList();
        Optional<Sample> before =
                all.stream().filter(s -> s.atNanos() < fromNanos).reduce((a, b) -> b);
        List<Roles> rolesIn =
                roles().stream().filter(r -> r.atNanos() <= toNanos).toList();
        return new Window(fromNanos, toNanos, before, in, rolesIn);
    }

    long roleErrors() {
        return roleErrors.get();
    }

    /** The overlaps of scheduler lifetimes (the lifetime lock) between two {@link System#nanoTime} values. */
    List<Lifetimes.Overlap> lifetimeOverlaps(long fromNanos, long toNanos) {
        return lifetimes.map(l -> l.overlapsBetween(fromNanos, toNanos)).orElse(List.of());
    }

    /** The time with two scheduler processes alive by the lifetime lock, in ms, between two nanoTime values. */
    long lifetimeOverlapMillis(long fromNanos, long toNanos) {
        return lifetimes.map(l -> l.overlapMillisBetween(fromNanos, toNanos)).orElse(0L);
    }

    /**
     * Why the observer cannot vouch for S1 over the run, if it cannot: a scan that failed, no process sample at all,
     * a gap between two samples (or since the last one) over {@link #MAX_GAP}, or a lifetime lock that saw no start.
     * Each fails the suite: an observer that did not watch must not report 0 overlap.
     */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        try {
            processSampler.verify(MAX_GAP, PATIENCE);
        } catch (AssertionError e) {
            problems.add("the observer: " + e.getMessage());
        }
        lifetimes.ifPresent(l -> {
            if (l.starts() == 0) {
                problems.add("the lifetime lock recorded no scheduler start: " + l.describe());
            }
        });
        return problems;
    }

    /** The lifetime lock's summary, for the report. */
    String lifetimesSummary() {
        return lifetimes.map(Lifetimes::describe).orElse("no lifetime lock (this workload keeps none)");
    }

    /** How many consecutive process samples were further apart than {@link #PROMISED_PERIOD}, and the longest. */
    String samplingSummary() {
        List<Sample> all = samples();
        long over = 0;
        long longest = 0;
        for (int i = 1; i < all.size(); i++) {
            long d = all.get(i).atNanos() - all.get(i - 1).atNanos();
            longest = Math.max(longest, d);
            if (d > PROMISED_PERIOD.toNanos()) {
                over++;
            }
        }
        return all.size() + " process samples, " + over + " intervals over " + PROMISED_PERIOD.toMillis()
                + " ms, longest " + longest / 1_000_000 + " ms; " + roles().size() + " role samples; "
                + roleErrors.get() + " failed role reads; " + processSampler.describe();
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            processSampler.close();
            roleSampler.interrupt();
            lifetimes.ifPresent(l -> {
                try {
                    l.close();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }
}
