package io.asfc.it.airflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** One snapshot of every live (non-zombie) process in {@code /proc}: its parentage, group, session and title. */
final class ProcTree {

    private static final Path PROC = Path.of("/proc");

    /** A process and its start time (clock ticks since boot): together they never name another process. */
    record Identity(long pid, long startTicks) {}

    /** One process as /proc showed it; {@code title} is its command line with NULs as spaces (Airflow sets it). */
    record Proc(long pid, long ppid, long pgid, long sid, long startTicks, String title) {
        Identity id() {
            return new Identity(pid, startTicks);
        }

        String describe() {
            return String.format("%7d %7d %7d %7d %s", pid, ppid, pgid, sid, title);
        }
    }

    private final Map<Long, Proc> byPid;

    private ProcTree(Map<Long, Proc> byPid) {
        this.byPid = byPid;
    }

    static ProcTree scan() throws IOException {
        Map<Long, Proc> byPid = new LinkedHashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path dir : dirs) {
                try {
                    String stat = Files.readString(dir.resolve("stat"), StandardCharsets.US_ASCII);
                    // Fields after "(comm)": state ppid pgrp session ... starttime is field 22 (index 19 here).
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (f[0].equals("Z")) {
                        continue;
                    }
                    String title = new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ')
                            .trim();
                    long pid = Long.parseLong(dir.getFileName().toString());
                    byPid.put(
                            pid,
                            new Proc(
                                    pid,
                                    Long.parseLong(f[1]),
                                    Long.parseLong(f[2]),
                                    Long.parseLong(f[3]),
                                    Long.parseLong(f[19]),
                                    title));
                } catch (IOException | RuntimeException e) {
                    // The process ended between listing and reading: it is simply not in this snapshot.
                }
            }
        }
        return new ProcTree(byPid);
    }

    /** {@code root} (if alive) and every live descendant, parents before children. */
    List<Proc> treeOf(long root) {
        List<Proc> tree = new ArrayList<>();
        Proc first = byPid.get(root);
        if (first == null) {
            return tree;
        }
        tree.add(first);
        for (int i = 0; i < tree.size(); i++) {
            long parent = tree.get(i).pid();
            byPid.values().stream().filter(p -> p.ppid() == parent).forEach(tree::add);
        }
        return tree;
    }

    /** Every live process of session {@code sid}. */
    List<Proc> session(long sid) {
        return byPid.values().stream().filter(p -> p.sid() == sid).toList();
    }

    /** Which of {@code ids} are still alive (same pid and start time). */
    List<Proc> among(Collection<Identity> ids) {
        Set<Identity> wanted = Set.copyOf(ids);
        return byPid.values().stream().filter(p -> wanted.contains(p.id())).toList();
    }

    static Set<Identity> ids(Collection<Proc> procs) {
        return procs.stream().map(Proc::id).collect(Collectors.toSet());
    }

    static String describe(Collection<Proc> procs) {
        return "    PID    PPID    PGID     SID TITLE\n"
                + procs.stream().map(Proc::describe).collect(Collectors.joining("\n"));
    }
}
