package io.asfc.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Process checks that work where PID 1 does not reap orphans. */
final class Processes {

    private Processes() {}

    /**
     * Whether {@code pid} is a live process. A zombie counts as ended: where PID 1 does not reap orphans (as on
     * some VMs and containers), an agent that has exited lingers as a zombie, and ProcessHandle calls it alive.
     */
    static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !isZombie(pid);
    }

    static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            return stat.substring(stat.lastIndexOf(')') + 1).trim().startsWith("Z");
        } catch (IOException e) {
            // No such entry: the process is gone, or this is not Linux and ProcessHandle alone decides.
            return false;
        }
    }

    /** Sends SIGKILL to {@code pid} if it is alive, and waits until it has ended (or is a zombie). */
    static void killAndAwaitEnd(long pid, Duration timeout) {
        if (!isAlive(pid)) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        await("pid " + pid + " to end after SIGKILL").atMost(timeout).until(() -> !isAlive(pid));
    }
}
