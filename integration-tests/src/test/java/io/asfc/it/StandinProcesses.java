package io.asfc.it;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.testing.ProcessSampler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The stand-in scheduler processes of one test, read straight from {@code /proc}: every live (non-zombie) process
 * whose command line contains the test's marker (its temporary directory), classified by the titles that {@code
 * airflow_standin.py} gives its processes, and attributed to the node named by {@code --host} in its own command line
 * or in that of another member of its session.
 */
final class StandinProcesses {

    private static final Path PROC = Path.of("/proc");
    private static final Pattern HOST = Pattern.compile("--host (\\S+)");
    private static final String MAIN_TITLE = "airflow scheduler";
    private static final String WATCHDOG_NAME = "asfc-scheduler-watchdog";
    /** The node of a process whose session names no host (e.g. a helper orphaned by a crashed tree). */
    static final String UNKNOWN_NODE = "?";

    private StandinProcesses() {}

    /** What a stand-in process is, by its title (argv[0]). */
    enum Kind {
        /** {@code airflow scheduler <script> --host NODE ...}: the scheduler itself. */
        MAIN("main"),
        /** {@code airflow scheduler -- DagFileProcessorManager}, in its own process group. */
        MANAGER("manager"),
        /** {@code airflow scheduler - DagFileProcessor <file>}, the manager's child. */
        PROCESSOR("processor"),
        /** {@code airflow worker -- LocalExecutor}. */
        WORKER("worker"),
        /** The agent's {@code asfc-scheduler-watchdog} shell (and its watcher subshell): not a scheduler process. */
        WATCHDOG("watchdog"),
        /**
         * A child that a main process forked and that has not yet executed the helper it becomes: it still shows its
         * parent's command line, but it is no second scheduler.
         */
        FORK("fork"),
        /** Anything else carrying the marker, e.g. the interpreter before the stand-in re-executes itself titled. */
        OTHER("other");

        final String label;

        Kind(String label) {
            this.label = label;
        }

        /** Whether this is part of a scheduler (everything but the agent's watchdog shell). */
        boolean isScheduler() {
            return this != WATCHDOG;
        }

        static final Set<Kind> HELPERS = Set.of(MANAGER, PROCESSOR, WORKER);
    }

    /** A process and its start time (in clock ticks since boot): together they never name another process. */
    record Identity(long pid, long startTicks) {
        @Override
        public String toString() {
            return Long.toString(pid);
        }
    }

    /** One stand-in process as /proc showed it. */
    record Proc(Identity id, long ppid, long sid, Kind kind, String node, String cmdline) {
        long pid() {
            return id.pid();
        }

        @Override
        public String toString() {
            return kind.label + " " + id.pid() + " (sid " + sid + ", node " + node + ")";
        }
    }

    /** One scan of /proc: the stand-in processes alive at that moment. */
    record Scan(long atNanos, List<Proc> processes) {

        List<Proc> mains() {
            return processes.stream().filter(p -> p.kind() == Kind.MAIN).toList();
        }

        /** The main processes by node, nodes sorted. */
        Map<String, List<Proc>> mainsByNode() {
            return mains().stream().collect(Collectors.groupingBy(Proc::node, TreeMap::new, Collectors.toList()));
        }

        /** The sole main process of {@code node}, if it runs exactly one. */
        Optional<Proc> mainOf(String node) {
            List<Proc> mains = mainsByNode().getOrDefault(node, List.of());
            return mains.size() == 1 ? Optional.of(mains.get(0)) : Optional.empty();
        }

        /** The scheduler processes (not watchdog shells) of session {@code sid}. */
        List<Proc> session(long sid) {
            return processes.stream()
                    .filter(p -> p.sid() == sid && p.kind().isScheduler())
                    .toList();
        }

        /** The sessions that hold scheduler processes (main, helpers or a stand-in not yet titled). */
        Set<Long> schedulerSessions() {
            return processes.stream()
                    .filter(p -> p.kind().isScheduler())
                    .map(Proc::sid)
                    .collect(Collectors.toCollection(java.util.TreeSet::new));
        }

        /** The processes of this scan that are among {@code ids}. */
        List<Proc> among(Collection<Identity> ids) {
            return processes.stream().filter(p -> ids.contains(p.id())).toList();
        }

        /**
         * The processes of {@code main}'s tree: every stand-in process of its session (the watchdog shell
         * included) and every descendant of the main, wherever it moved.
         */
        Set<Identity> treeOf(Proc main) {
            Map<Long, List<Proc>> children = new HashMap<>();
            processes.forEach(p ->
                    children.computeIfAbsent(p.ppid(), k -> new ArrayList<>()).add(p));
            Set<Identity> tree = processes.stream()
                    .filter(p -> p.sid() == main.sid())
                    .map(Proc::id)
                    .collect(Collectors.toCollection(java.util.HashSet::new));
            List<Proc> todo = new ArrayList<>(List.of(main));
            while (!todo.isEmpty()) {
                Proc p = todo.remove(todo.size() - 1);
                tree.add(p.id());
                todo.addAll(children.getOrDefault(p.pid(), List.of()));
            }
            return tree;
        }

        /** One line: each session's node, main and helpers. */
        String describe() {
            if (processes.isEmpty()) {
                return "no stand-in process";
            }
            Map<Long, List<Proc>> bySession =
                    processes.stream().collect(Collectors.groupingBy(Proc::sid, TreeMap::new, Collectors.toList()));
            return bySession.entrySet().stream()
                    .map(e -> "session " + e.getKey() + " of "
                            + e.getValue().get(0).node() + ": "
                            + e.getValue().stream()
                                    .map(p -> p.kind().label + " " + p.pid())
                                    .collect(Collectors.joining(", ")))
                    .collect(Collectors.joining("; "));
        }
    }

    /** Reads /proc now and returns the live processes whose command line contains {@code marker}. */
    static Scan scan(String marker) throws IOException {
        long self = ProcessHandle.current().pid();
        List<Raw> raws = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, StandinProcesses::isPidDirectory)) {
            for (Path dir : dirs) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid != self) {
                    read(dir, pid, marker).ifPresent(raws::add);
                }
            }
        }
        return scan(System.nanoTime(), raws);
    }

    /** The live processes of {@code sample} (taken by {@link ProcessSampler}) whose command line holds {@code marker}. */
    static Scan scan(ProcessSampler.Sample sample, String marker) {
        List<Raw> raws = new ArrayList<>();
        for (ProcessSampler.Proc p : sample.processes().values()) {
            ProcessInfo info = p.info();
            if (!info.isZombie()) {
                raw(info.pid(), info.ppid(), info.sid(), info.startTicks(), p.argv(), marker)
                        .ifPresent(raws::add);
            }
        }
        return scan(sample.atNanos(), raws);
    }

    private static Scan scan(long at, List<Raw> raws) {
        Map<Long, String> hostOfSession = new HashMap<>();
        for (Raw raw : raws) {
            if (raw.host != null) {
                hostOfSession.putIfAbsent(raw.sid, raw.host);
            }
        }
        Map<Long, Raw> byPid = raws.stream().collect(Collectors.toMap(Raw::pid, r -> r));
        List<Proc> processes = raws.stream()
                .map(r -> new Proc(
                        new Identity(r.pid, r.startTicks),
                        r.ppid,
                        r.sid,
                        isForkOfMain(r, byPid.get(r.ppid)) ? Kind.FORK : r.kind,
                        r.host != null ? r.host : hostOfSession.getOrDefault(r.sid, UNKNOWN_NODE),
                        r.cmdline))
                .toList();
        return new Scan(at, processes);
    }

    private static boolean isForkOfMain(Raw raw, Raw parent) {
        // not compared by command line: the sampler may hold an older one of either (see ProcessSampler)
        return raw.kind == Kind.MAIN && parent != null && parent.kind == Kind.MAIN;
    }

    private record Raw(long pid, long ppid, long sid, long startTicks, Kind kind, String host, String cmdline) {}

    private static boolean isPidDirectory(Path path) {
        String name = path.getFileName().toString();
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }

    private static Optional<Raw> read(Path dir, long pid, String marker) {
        try {
            byte[] argv = Files.readAllBytes(dir.resolve("cmdline"));
            String text = new String(argv, StandardCharsets.UTF_8);
            if (argv.length == 0 || !text.contains(marker) || text.contains(ProcessSampler.SCRIPT.toString())) {
                return Optional.empty(); // a kernel thread, a zombie, not ours, or the observer's own sampler
            }
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.US_ASCII);
            // after "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
            // utime stime cutime cstime priority nice num_threads itrealvalue starttime
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].startsWith("Z") || f[0].startsWith("X")) {
                return Optional.empty(); // ended: a zombie runs nothing
            }
            return raw(
                    pid,
                    Long.parseLong(f[1]),
                    Long.parseLong(f[3]),
                    Long.parseLong(f[19]),
                    new String(argv, StandardCharsets.UTF_8),
                    marker);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the process ended while it was being read
        }
    }

    /** A live process by its argv (NUL-separated), if its command line holds {@code marker}. */
    private static Optional<Raw> raw(long pid, long ppid, long sid, long startTicks, String argvNul, String marker) {
        String[] argv = argvNul.split("\0");
        String cmdline = String.join(" ", argv);
        if (argvNul.isEmpty() || !cmdline.contains(marker)) {
            return Optional.empty();
        }
        Matcher host = HOST.matcher(cmdline);
        return Optional.of(
                new Raw(pid, ppid, sid, startTicks, kind(argv, cmdline), host.find() ? host.group(1) : null, cmdline));
    }

    private static Kind kind(String[] argv, String cmdline) {
        String title = argv[0];
        if (cmdline.contains(WATCHDOG_NAME)) {
            return Kind.WATCHDOG;
        }
        if (title.equals(MAIN_TITLE) && !Arrays.asList(argv).contains("--role")) {
            return Kind.MAIN;
        }
        if (title.startsWith("airflow scheduler -- DagFileProcessorManager")) {
            return Kind.MANAGER;
        }
        if (title.startsWith("airflow scheduler - DagFileProcessor")) {
            return Kind.PROCESSOR;
        }
        if (title.startsWith("airflow worker -- LocalExecutor")) {
            return Kind.WORKER;
        }
        return Kind.OTHER;
    }
}
