package io.asfc.common.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** A snapshot of every process on this host, read from {@code /proc}. */
public final class ProcessTable {
    private static final Path PROC = Path.of("/proc");

    private final Map<Long, ProcessInfo> byPid;

    private ProcessTable(Map<Long, ProcessInfo> byPid) {
        this.byPid = byPid;
    }

    public static ProcessTable snapshot() {
        return snapshot(PROC);
    }

    static ProcessTable snapshot(Path proc) {
        Map<Long, ProcessInfo> result = new HashMap<>();
        try (DirectoryStream<Path> dirs =
                Files.newDirectoryStream(proc, p -> isNumeric(p.getFileName().toString()))) {
            for (Path dir : dirs) {
                read(dir).ifPresent(info -> result.put(info.pid(), info));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + proc + ": " + e.getMessage(), e);
        }
        return new ProcessTable(result);
    }

    /**
     * A {@link #snapshot}, or empty when no process's command line (as {@link ProcessInfo#cmdline}
     * has it: arguments joined by spaces, trimmed) contains a match of {@code pattern}. It reads each
     * {@code /proc/<pid>/cmdline} first, and every {@code stat} only when some command line matches:
     * half the reads of a snapshot when none does, the same when one does. A matching process is
     * read as a snapshot reads it (stat, then command line again); the others keep the command line
     * read first. A process that ends meanwhile is left out, as in a snapshot.
     */
    public static Optional<ProcessTable> snapshotIfAnyMatches(Pattern pattern) {
        return snapshotIfAnyMatches(PROC, pattern);
    }

    static Optional<ProcessTable> snapshotIfAnyMatches(Path proc, Pattern pattern) {
        Map<Path, String> cmdlines = new LinkedHashMap<>();
        Set<Path> matching = new HashSet<>();
        try (DirectoryStream<Path> dirs =
                Files.newDirectoryStream(proc, p -> isNumeric(p.getFileName().toString()))) {
            for (Path dir : dirs) {
                try {
                    String cmdline = cmdline(dir);
                    cmdlines.put(dir, cmdline);
                    if (pattern.matcher(cmdline.trim()).find()) { // as ProcessInfo has it
                        matching.add(dir);
                    }
                } catch (IOException e) {
                    // the process ended while we were reading it
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + proc + ": " + e.getMessage(), e);
        }
        if (matching.isEmpty()) {
            return Optional.empty();
        }
        Map<Long, ProcessInfo> result = new HashMap<>();
        cmdlines.forEach((dir, cmdline) -> {
            Optional<ProcessInfo> info;
            if (matching.contains(dir)) {
                info = read(dir);
            } else {
                try {
                    info = parse(Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8), cmdline);
                } catch (IOException | RuntimeException e) {
                    info = Optional.empty(); // the process ended while we were reading it
                }
            }
            info.ifPresent(p -> result.put(p.pid(), p));
        });
        return Optional.of(new ProcessTable(result));
    }

    /** A table of processes read elsewhere, e.g. on another host over SSH. */
    public static ProcessTable of(Collection<ProcessInfo> processes) {
        Map<Long, ProcessInfo> result = new HashMap<>();
        processes.forEach(p -> result.put(p.pid(), p));
        return new ProcessTable(result);
    }

    /**
     * One process from the text of its {@code /proc/<pid>/stat} and its command line (arguments
     * joined by spaces), or empty when the stat line cannot be parsed.
     */
    public static Optional<ProcessInfo> parse(String stat, String cmdline) {
        try {
            int open = stat.indexOf(" (");
            int close = stat.lastIndexOf(')');
            String[] f = stat.substring(close + 2).trim().split(" ");
            // after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
            // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
            return Optional.of(new ProcessInfo(
                    Long.parseLong(stat.substring(0, open).trim()),
                    Long.parseLong(f[1]),
                    Long.parseLong(f[2]),
                    Long.parseLong(f[3]),
                    f[0].charAt(0),
                    Long.parseLong(f[19]),
                    cmdline.trim()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The process now at {@code pid}, if any (a fresh read, not from a snapshot). */
    public static Optional<ProcessInfo> read(long pid) {
        return read(PROC.resolve(Long.toString(pid)));
    }

    public Optional<ProcessInfo> get(long pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    public Collection<ProcessInfo> all() {
        return byPid.values();
    }

    /** Live (non-zombie) processes that satisfy the test. */
    public List<ProcessInfo> matching(Predicate<ProcessInfo> test) {
        return byPid.values().stream().filter(p -> !p.isZombie()).filter(test).toList();
    }

    /**
     * A process tree: {@code root}, every process of the session {@code root} leads (even when
     * {@code root} itself is gone, as after a crash), and all their descendants, whatever process
     * group or session they moved to. Zombies excluded.
     */
    public Set<ProcessInfo> tree(long root) {
        Map<Long, List<ProcessInfo>> children = new HashMap<>();
        for (ProcessInfo p : byPid.values()) {
            children.computeIfAbsent(p.ppid(), k -> new ArrayList<>()).add(p);
        }
        Set<ProcessInfo> result = new LinkedHashSet<>();
        Deque<ProcessInfo> todo = new ArrayDeque<>();
        get(root).ifPresent(todo::add);
        byPid.values().stream().filter(p -> p.sid() == root).forEach(todo::add);
        while (!todo.isEmpty()) {
            ProcessInfo p = todo.pop();
            if (result.add(p)) {
                todo.addAll(children.getOrDefault(p.pid(), List.of()));
            }
        }
        result.removeIf(ProcessInfo::isZombie);
        return result;
    }

    /** The process and its ancestors up to pid 1. */
    public Set<Long> ancestry(long pid) {
        Set<Long> result = new LinkedHashSet<>();
        Optional<ProcessInfo> p = get(pid);
        while (p.isPresent() && result.add(p.get().pid())) {
            p = get(p.get().ppid());
        }
        return result;
    }

    private static Optional<ProcessInfo> read(Path dir) {
        try {
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
            return parse(stat, cmdline(dir));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the process ended while we were reading it
        }
    }

    /** Arguments joined by spaces (untrimmed: {@link #parse} trims). */
    private static String cmdline(Path dir) throws IOException {
        return new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    private static boolean isNumeric(String name) {
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }
}
