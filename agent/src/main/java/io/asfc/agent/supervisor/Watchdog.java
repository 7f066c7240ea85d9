package io.asfc.agent.supervisor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The shell that leads a child-mode scheduler's session when {@code stop-with-agent} is on: the
 * on-host deadman. It runs the start command (stdin from /dev/null), and a watcher that reads the
 * shell's stdin, a pipe from the agent, passed on explicitly as fd 3 (a background job's stdin would
 * be /dev/null). The agent writes a line on it to renew the deadman ({@link DeadmanFeeder}). When
 * no line came for {@code deadman-timeout} (the agent froze, or lost ZooKeeper), or its end closes
 * (the agent died, even by SIGKILL), or the agent writes {@code stop} (it self-fences: the kill clock
 * then runs here too, so an agent killed during its self-fence does not restart it), the watcher
 * sends SIGTERM to every process of the session,
 * waits up to the stop timeout, then sends SIGKILL. It is a process of its own: nothing that
 * freezes the agent's JVM freezes it. The session's members are found by the session id field of
 * {@code /proc/<pid>/stat}, so nothing outside the session is ever touched. When the scheduler
 * exits on its own, the shell ends the watcher and exits with the scheduler's status. The shell
 * writes the scheduler's own pid to a file, so that asfc reports that pid, not the shell's.
 */
final class Watchdog {
    /**
     * bash (for {@code read -t}); $1 = start command, $2 = stop timeout in tenths of a second, $3 =
     * child pid file, $4 = deadman timeout in seconds (decimal).
     */
    private static final String SCRIPT =
            """
            sid=$$
            signal_session() {
              for d in /proc/[0-9]*; do
                pid=${d#/proc/}
                [ "$pid" = "$self" ] && continue
                read -r line 2>/dev/null < "$d/stat" || continue
                set -- ${line##*) }
                [ "$4" = "$sid" ] && [ "$1" != Z ] && kill -"$sig" "$pid" 2>/dev/null
              done
            }
            session_alive() {
              for d in /proc/[0-9]*; do
                pid=${d#/proc/}
                [ "$pid" = "$self" ] && continue
                read -r line 2>/dev/null < "$d/stat" || continue
                set -- ${line##*) }
                [ "$4" = "$sid" ] && [ "$1" != Z ] && return 0
              done
              return 1
            }
            exec 3<&0
            sh -c "$1" </dev/null 3<&- &
            child=$!
            echo "$child" > "$3"
            tenths=$2
            deadman=$4
            (
              trap '' TERM INT HUP
              why="the agent is gone"
              while :; do
                line=
                read -r -t "$deadman" line <&3
                rc=$?
                if [ "$rc" -eq 0 ]; then
                  [ "$line" = stop ] || continue
                  why="the agent is self-fencing"
                  break
                fi
                [ "$rc" -gt 128 ] && why="no renewal from the agent for ${deadman}s (deadman)"
                break
              done
              read -r self _ < /proc/self/stat
              echo "asfc watchdog: $why; stopping the scheduler session $sid" >&2
              sig=TERM; signal_session
              n=0
              while session_alive && [ "$n" -lt "$tenths" ]; do sleep 0.1; n=$((n + 1)); done
              sig=KILL; signal_session
            ) &
            watcher=$!
            wait "$child"
            status=$?
            kill -9 "$watcher" 2>/dev/null
            wait "$watcher" 2>/dev/null
            exit "$status"
            """;

    private Watchdog() {}

    static List<String> command(String startCommand, Duration stopTimeout, Path childPidFile, Duration deadman) {
        return List.of(
                "setsid",
                "/bin/bash",
                "-c",
                SCRIPT,
                "asfc-scheduler-watchdog",
                startCommand,
                Long.toString(Math.max(1, stopTimeout.toMillis() / 100)),
                childPidFile.toString(),
                String.format(Locale.ROOT, "%.3f", deadman.toMillis() / 1000.0));
    }
}
