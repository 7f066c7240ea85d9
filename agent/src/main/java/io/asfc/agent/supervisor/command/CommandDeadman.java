package io.asfc.agent.supervisor.command;

import io.asfc.agent.supervisor.Lifeline;
import io.asfc.common.process.PosixEre;
import io.asfc.common.process.ProcessTable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-host deadman in command mode: a small bash process of its own (its own session), started
 * before the first scheduler start and kept for the agent's life. The agent renews it on a pipe
 * ({@link #renew}); when no renewal came for {@code deadman-timeout} (the agent froze, or lost
 * ZooKeeper) it stops every process whose command line matches {@code process-pattern} (as a POSIX
 * ERE, {@link PosixEre}), and the pid in {@code pid-file}, with their descendants: SIGTERM, then
 * SIGKILL after {@code self-fence-stop-timeout}. It stays armed, and acts again after a later silence
 * that follows a renewal. When the agent's end of the pipe closes (the agent died, even by SIGKILL)
 * it stops them once more and exits. It never signals itself, its helpers (its own session), the
 * agent or the agent's ancestors.
 */
final class CommandDeadman {
    private static final Logger LOG = LoggerFactory.getLogger(CommandDeadman.class);

    /**
     * bash; $ASFC_DEADMAN_PATTERN = process-pattern as a POSIX ERE (in the environment, not in argv:
     * its own command line must never match the pattern), $1 = stop timeout in tenths of a second, $2 =
     * deadman timeout in seconds (decimal), $3 = protected pids (space-separated: the agent and its
     * ancestors), $4 = pid file (may be empty).
     */
    private static final String SCRIPT =
            """
            pattern=$ASFC_DEADMAN_PATTERN; tenths=$1; deadman=$2; protect=" $3 "; pidfile=$4
            read -r line < /proc/$$/stat; set -- ${line##*) }; mysid=$4
            targets() {
              declare -A parent=() hit=()
              for d in /proc/[0-9]*; do
                pid=${d#/proc/}
                read -r line 2>/dev/null < "$d/stat" || continue
                set -- ${line##*) }
                [ "$1" = Z ] && continue
                parent[$pid]=$2
                [ "$4" = "$mysid" ] && continue
                [[ $protect == *" $pid "* ]] && continue
                args=(); mapfile -d '' -t args 2>/dev/null < "$d/cmdline" || continue
                [ ${#args[@]} -gt 0 ] || continue
                cmd="${args[*]}"
                [[ $cmd =~ $pattern ]] && hit[$pid]=1
              done
              if [ -n "$pidfile" ] && read -r p 2>/dev/null < "$pidfile" && [ -n "${parent[$p]}" ]; then
                [[ $protect == *" $p "* ]] || hit[$p]=1
              fi
              changed=1
              while [ -n "$changed" ]; do
                changed=
                for pid in "${!parent[@]}"; do
                  [ -n "${hit[$pid]}" ] && continue
                  [[ $protect == *" $pid "* ]] && continue
                  [ -n "${hit[${parent[$pid]}]}" ] && { hit[$pid]=1; changed=1; }
                done
              done
              echo "${!hit[@]}"
            }
            stop_all() {
              pids=$(targets)
              echo "asfc deadman: $1; stopping the scheduler's processes: ${pids:-none}" >&2
              [ -z "$pids" ] && return
              kill -TERM $pids 2>/dev/null
              n=0
              while :; do
                alive=
                for p in $pids; do [ -d "/proc/$p" ] && alive="$alive $p"; done
                [ -z "$alive" ] && return
                [ "$n" -ge "$tenths" ] && break
                sleep 0.1; n=$((n + 1))
              done
              kill -KILL $alive 2>/dev/null
            }
            trap '' TERM INT HUP
            armed=1
            while :; do
              line=
              read -r -t "$deadman" line
              rc=$?
              if [ "$rc" -eq 0 ]; then
                armed=1
                [ "$line" = stop ] && stop_all "the agent is self-fencing"
                continue
              fi
              if [ "$rc" -gt 128 ]; then
                [ -n "$armed" ] && stop_all "no renewal from the agent for ${deadman}s (deadman)"
                armed=
                continue
              fi
              stop_all "the agent is gone"
              exit 0
            done
            """;

    private final List<String> command;
    private final String node;
    private final String ere;
    private final Path output;
    private Process process;
    private volatile Lifeline pipe;

    /**
     * @param node this node's id, the deadman's mark ({@link io.asfc.common.process.ProcessOrigin})
     * @param ere {@code process-pattern} as a POSIX ERE ({@link PosixEre}; checked when the config loads)
     */
    CommandDeadman(String node, String ere, Duration stopTimeout, Duration deadman, Path pidFile, Path output) {
        List<Long> protect = new ArrayList<>();
        ProcessTable table = ProcessTable.snapshot();
        long pid = ProcessHandle.current().pid();
        while (pid > 1 && protect.size() < 64) {
            protect.add(pid);
            long p = pid;
            pid = table.get(p).map(info -> info.ppid()).orElse(1L);
        }
        this.command = List.of(
                "setsid",
                "/bin/bash",
                "-c",
                SCRIPT,
                "asfc-deadman",
                Long.toString(Math.max(1, stopTimeout.toMillis() / 100)),
                String.format(Locale.ROOT, "%.3f", deadman.toMillis() / 1000.0),
                protect.stream().map(String::valueOf).collect(Collectors.joining(" ")),
                pidFile == null ? "" : pidFile.toString());
        this.node = node;
        this.ere = ere;
        this.output = output;
    }

    /** Starts the deadman unless it runs. */
    synchronized void ensureRunning() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(output.toAbsolutePath().getParent());
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put("ASFC_DEADMAN_PATTERN", ere);
            // asfc's mark: a pattern that its script happens to match never makes it a foreign scheduler
            builder.environment().put(io.asfc.common.process.ProcessOrigin.VARIABLE, node);
            process = builder.redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                    .redirectErrorStream(true)
                    .start();
            pipe = new Lifeline(process.getOutputStream());
            LOG.info("on-host deadman started (pid {})", process.pid());
        } catch (IOException e) {
            LOG.error("could not start the on-host deadman: a frozen agent could leave its scheduler running", e);
        }
    }

    /** Renews it, if it runs; a write to a deadman that is gone fails quietly. */
    void renew() {
        Lifeline line = pipe;
        if (line != null) {
            line.renew();
        }
    }

    /**
     * The agent self-fences: the deadman stops the scheduler now too, with its own kill clock, so an
     * agent killed during its self-fence does not start that clock again.
     */
    void stopNow() {
        Lifeline line = pipe;
        if (line != null) {
            line.stop();
        }
    }

    /** The deadman's pid, while it runs. */
    synchronized java.util.OptionalLong pid() {
        return process != null && process.isAlive()
                ? java.util.OptionalLong.of(process.pid())
                : java.util.OptionalLong.empty();
    }
}
