package io.asfc.agent;

import io.asfc.agent.zk.ZkClients;
import io.asfc.common.zk.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an agent that leaves for a hand-over tells the next agent of its node on this host (docs/UPGRADE.md):
 * the ZooKeeper session to resume, and the on-host deadman that waits on a fifo with the scheduler.
 * Written 0600 in the run directory, read once and deleted at once by the next agent. The session's
 * password is a secret: it is never logged.
 *
 * @param sessionId the leaving agent's session
 * @param password that session's password, base64
 * @param fifo where the deadman waits for the next agent
 * @param deadmanPid the deadman's pid
 * @param agentPid the leaving agent's pid
 * @param writtenAtMillis when it was written (wall clock: only to ignore a file far older than a session)
 */
record HandOverFile(
        String node,
        long sessionId,
        String password,
        String fifo,
        long deadmanPid,
        long agentPid,
        long writtenAtMillis) {
    private static final Logger LOG = LoggerFactory.getLogger(HandOverFile.class);

    ZkClients.Resume resume() {
        return new ZkClients.Resume(sessionId, Base64.getDecoder().decode(password));
    }

    @Override
    public String toString() {
        return "HandOverFile[node " + node + ", session 0x" + Long.toHexString(sessionId) + ", deadman " + deadmanPid
                + "]"; // never the password
    }

    /** Writes it whole (a temporary file moved over it), readable by this user only. */
    void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, Json.encode(this));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Reads and deletes the file a previous agent of {@code node} left, if any: it is used once. A
     * file for another node, unreadable, or older than {@code maxAge} is deleted and ignored.
     */
    static Optional<HandOverFile> take(Path file, String node, long nowMillis, Duration maxAge) {
        // Renamed first, atomically: of two agents of this node started at once, only one takes it.
        Path taken = file.resolveSibling(
                file.getFileName() + ".taken-" + ProcessHandle.current().pid());
        try {
            Files.move(file, taken, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("cannot take the hand-over file {}: {}", file, e.toString());
            return Optional.empty();
        }
        Optional<HandOverFile> read;
        try {
            read = Optional.of(Json.mapper().readValue(Files.readAllBytes(taken), HandOverFile.class));
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "ignoring the unreadable hand-over file {}: {}",
                    file,
                    e.getClass().getSimpleName());
            read = Optional.empty();
        } finally {
            try {
                Files.deleteIfExists(taken);
            } catch (IOException e) {
                LOG.warn("cannot delete the hand-over file {}: {}", taken, e.toString());
            }
        }
        Optional<HandOverFile> valid = read.filter(h -> node.equals(h.node()));
        if (read.isPresent() && valid.isEmpty()) {
            LOG.warn(
                    "ignoring the hand-over file {}: it is for node {}",
                    file,
                    read.get().node());
        }
        valid = valid.filter(h -> nowMillis - h.writtenAtMillis() <= maxAge.toMillis());
        if (read.isPresent() && valid.isEmpty() && node.equals(read.get().node())) {
            LOG.warn(
                    "ignoring the hand-over file {}: written {}ms ago, longer than its session can live",
                    file,
                    nowMillis - read.get().writtenAtMillis());
        }
        return valid;
    }
}
