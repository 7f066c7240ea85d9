package io.asfc.agent.supervisor;

import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child-mode scheduler session: its leader, identified by pid and start time, since when it runs,
 * and the scheduler's own pid (the leader's when no watchdog leads the session). It is recorded in a
 * state file with this boot's id, so that an agent restarted after a crash finds it again, and a
 * session recorded before a reboot is never taken for a live one.
 */
record ChildSession(ProcessInfo leader, Instant since, long scheduler) {
    private static final Logger LOG = LoggerFactory.getLogger(ChildSession.class);
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    boolean leaderAlive() {
        return TreeStopper.isAlive(leader);
    }

    /** Every live process of the session and their descendants, never one older than the leader (a reused pid). */
    Set<ProcessInfo> members() {
        return members(ProcessTable.snapshot());
    }

    /** {@link #members()} as {@code table} has them. */
    Set<ProcessInfo> members(ProcessTable table) {
        return table.tree(leader.pid()).stream()
                .filter(p -> p.startTicks() >= leader.startTicks())
                .collect(Collectors.toSet());
    }

    /** This boot's id (Linux), so that a session recorded before a reboot is never taken for a live one. */
    static String bootId() {
        try {
            return Files.readString(BOOT_ID).trim();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    static Optional<ChildSession> read(Path stateFile) {
        try {
            if (!Files.exists(stateFile)) {
                return Optional.empty();
            }
            String[] f = Files.readString(stateFile).trim().split("\\s+");
            if (f.length > 4 && !f[4].equals(bootId())) {
                // Recorded before a reboot: its pids may now belong to anything. Never signal them.
                LOG.info("ignoring {}: it was written before this host rebooted (boot id {})", stateFile, f[4]);
                return Optional.empty();
            }
            long pid = Long.parseLong(f[0]);
            long ticks = Long.parseLong(f[1]);
            Instant since = Instant.ofEpochMilli(Long.parseLong(f[2]));
            ProcessInfo leader = ProcessTable.read(pid)
                    .filter(p -> p.startTicks() == ticks)
                    .orElse(new ProcessInfo(pid, 0, pid, pid, 'X', ticks, ""));
            long scheduler = f.length > 3 ? Long.parseLong(f[3]) : pid;
            return Optional.of(new ChildSession(leader, since, scheduler));
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring unreadable scheduler state file {}", stateFile, e);
            return Optional.empty();
        }
    }

    void write(Path stateFile) {
        try {
            Files.createDirectories(stateFile.toAbsolutePath().getParent());
            Path tmp = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
            Files.writeString(
                    tmp,
                    leader.pid() + " " + leader.startTicks() + " " + since.toEpochMilli() + " " + scheduler + " "
                            + bootId() + "\n",
                    StandardCharsets.UTF_8);
            Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("cannot record the scheduler session in {}; a restarted agent won't find it", stateFile, e);
        }
    }

    static void delete(Path stateFile) {
        try {
            Files.deleteIfExists(stateFile);
        } catch (IOException e) {
            LOG.warn("cannot delete {}", stateFile, e);
        }
    }
}
