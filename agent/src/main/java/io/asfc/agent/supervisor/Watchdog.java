package io.asfc.agent.supervisor;

import io.asfc.common.process.ProcessInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

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
 * freezes the agent's JVM freezes it. It reads the pipe a second at a time and counts the deadman
 * timeout on {@code /proc/uptime}, not with one {@code read -t} of the whole timeout, whose timer does
 * not count a freeze of the whole host: after a freeze past the timeout it acts within a second of
 * resuming, not after the rest of the timeout. The session's members are found by the session id field of
 * {@code /proc/<pid>/stat}, so nothing outside the session is ever touched. When the scheduler
 * exits on its own, the shell ends the watcher and exits with the scheduler's status. The shell
 * writes the scheduler's own pid to a file, so that asfc reports that pid, not the shell's.
 *
 * <p>With {@code watchdog.device} (Patroni's model), the watcher also opens that Linux watchdog
 * device when the scheduler starts (opening arms it; the scheduler never inherits it) and writes a
 * byte to it at least every second. A whole-host freeze, or a frozen or killed watcher, stops the feed and the
 * kernel resets the host after the device's timeout. The watcher disarms the device (writes
 * {@code V}, then closes it: the magic close) only once no other process of the session is left:
 * after the scheduler exited, after a clean stop (which signals every process of the session but
 * the watcher, {@link #isShell}), or after its own stop when the agent froze, self-fenced or died.
 * When the session outlives SIGKILL it exits without disarming, so the host resets. The shell
 * then no longer kills the watcher when the scheduler exits: the watcher sees the session empty
 * and ends. A device that cannot be opened or written to is logged and retried every second; the
 * deadman works without it, stopping the scheduler when renewals stop as it does without a device.
 * Each change between feeding and failing is written to a status file that the agent reads
 * ({@link DeviceReport}, {@link DeviceAlarm}).
 *
 * <p>A hand-over ({@link DeadmanHandOver}) lets the next agent of the node adopt it, and the
 * scheduler with it, when the agent leaves for a rolling upgrade.
 */
final class Watchdog {
    /**
     * bash (for {@code read -t}); $1 = start command, $2 = stop timeout in tenths of a second, $3 =
     * child pid file, $4 = deadman timeout in seconds (decimal), $5 = watchdog device (may be
     * empty), $6 = deadman timeout in hundredths of a second, $7 = the device's status file (may be
     * empty; {@link DeviceReport}).
     */
    private static final String NAME = "asfc-scheduler-watchdog";

    private static final String SCRIPT =
            """
            sid=$$
            device=$5
            centis=$6
            status=$7
            errfile=${status:+$status.err}
            errfile=${errfile:-/dev/null}
            failures=0
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
            leader_alive() {
              read -r line 2>/dev/null < "/proc/$sid/stat" || return 1
              set -- ${line##*) }
              [ "$1" != Z ]
            }
            now() { read -r up _ < /proc/uptime; up=${up//[!0-9]/}; now=$((10#$up)); }
            report() {
              [ "$1" = "$reported" ] && return
              reported=$1
              if [ "$1" = failed ]; then
                failures=$((failures + 1))
                echo "asfc watchdog: ERROR: $2; the deadman runs without it (it still stops the scheduler when renewals stop) and retries every second" >&2
              else
                echo "asfc watchdog: $2 (a whole-host freeze now resets this host)" >&2
              fi
              [ -n "$status" ] && echo "$1 $sid $failures $2" > "$status" 2>/dev/null
            }
            why_failed() { err=; read -r err 2>/dev/null < "$errfile"; [ -n "$err" ] && echo ": ${err##*: }"; }
            arm() {
              if [ ! -e "$device" ]; then
                report failed "watchdog.device $device does not exist"
                return
              fi
              if { exec 4>"$device"; } 2>"$errfile"; then
                fed=1
              else
                report failed "cannot open watchdog.device $device$(why_failed)"
              fi
            }
            feed() {
              [ -n "$fed" ] || return
              if { printf . >&4; } 2>/dev/null || { printf . >&4; } 2>"$errfile"; then
                report ok "feeding watchdog.device $device"
                return
              fi
              exec 4>&-; fed=
              report failed "cannot write to watchdog.device $device$(why_failed)"
            }
            disarm() {
              [ -n "$fed" ] || return
              { printf V >&4; } 2>/dev/null; exec 4>&-; fed=
              echo "asfc watchdog: the scheduler session $sid is gone; watchdog.device $device disarmed (magic close)" >&2
            }
            me="asfc watchdog"
            """
                    + DeadmanHandOver.SHELL
                    + """
            watch() {
              trap '' TERM INT HUP
              read -r self _ < /proc/self/stat
              fifo=; waiting=
              why="the agent is gone"
              # The deadline is counted on /proc/uptime, in reads of at most a second: read -t's own timer does
              # not count a freeze of the host (the kernel restarts the interrupted wait with the time left), so
              # one read of the whole timeout would, after a freeze past it, wait out the rest of it.
              now; deadline=$((now + centis))
              while :; do
                if [ -n "$device" ]; then
                  [ -n "$fed" ] || arm
                  feed
                  if ! leader_alive && ! session_alive; then
                    disarm
                    exit 0
                  fi
                fi
                now; left=$((deadline - now))
                if [ "$left" -le 0 ]; then
                  why="no renewal from the agent for ${deadman}s (deadman)"
                  break
                fi
                [ "$left" -gt 100 ] && left=100
                printf -v t '%d.%02d' $((left / 100)) $((left % 100))
                line=
                read -r -t "$t" line <&3
                rc=$?
                if [ "$rc" -eq 0 ]; then
                  case $line in
                    stop) why="the agent is self-fencing"; break ;;
                    "handover "*) handover "${line#handover }"; continue ;;
                    unhand) unhand; continue ;;
                    adopt*) adopt; continue ;;
                  esac
                  now; deadline=$((now + centis))
                  continue
                fi
                [ "$rc" -gt 128 ] && continue
                awaiting && continue
                break
              done
              [ -n "$waiting" ] && why="no new agent adopted the scheduler after a hand-over (deadman)"
              unhand
              echo "asfc watchdog: $why; stopping the scheduler session $sid" >&2
              sig=TERM; signal_session
              n=0
              while session_alive && [ "$n" -lt "$tenths" ]; do feed; sleep 0.1; n=$((n + 1)); done
              sig=KILL; signal_session
              [ -n "$device" ] || return 0
              n=0
              while session_alive && [ "$n" -lt 50 ]; do feed; sleep 0.1; n=$((n + 1)); done
              if session_alive; then
                echo "asfc watchdog: ERROR: the scheduler session $sid outlived SIGKILL; leaving watchdog.device $device armed and unfed: this host resets" >&2
                exit 1
              fi
              disarm
            }
            exec 3<&0
            sh -c "$1" </dev/null 3<&- &
            child=$!
            echo "$child" > "$3"
            tenths=$2
            deadman=$4
            watch &
            watcher=$!
            wait "$child"
            status=$?
            if [ -z "$device" ]; then
              kill -9 "$watcher" 2>/dev/null
              wait "$watcher" 2>/dev/null
            fi
            exit "$status"
            """;

    private Watchdog() {}

    /**
     * Whether {@code p} is this shell: its leader, or a fork of it (the watcher; with {@code
     * watchdog.device}, the detached feeder). Never the scheduler ({@code sh -c}) or its children.
     */
    static boolean isShell(ProcessInfo p) {
        return p.cmdline().startsWith("/bin/bash -c sid=$$") && p.cmdline().contains(" " + NAME + " ");
    }

    /**
     * Why a running watchdog, started with {@code argv} (its command line, {@link #command}), must not be adopted by
     * an agent whose own config gives {@code stopTimeout}, {@code deadman} and {@code device}: another kind of
     * process, timeouts longer than this agent's ({@link DeadmanHandOver#misfit}), or another device. Empty when it
     * fits.
     */
    static Optional<String> misfit(List<String> argv, Duration stopTimeout, Duration deadman, Optional<Path> device) {
        // /bin/bash -c SCRIPT NAME start-command tenths child-pid-file seconds device centis status
        if (argv.size() < 10 || !NAME.equals(argv.get(3))) {
            return Optional.of(
                    "it is not a scheduler watchdog: " + argv.stream().limit(4).toList());
        }
        if (!argv.get(8).equals(device.map(Path::toString).orElse(""))) {
            return Optional.of("it feeds watchdog.device '" + argv.get(8) + "', this agent's config says '"
                    + device.map(Path::toString).orElse("") + "'");
        }
        try {
            return DeadmanHandOver.misfit(
                    Long.parseLong(argv.get(5)), Long.parseLong(argv.get(9)), tenths(stopTimeout), centis(deadman));
        } catch (NumberFormatException e) {
            return Optional.of("its timeouts cannot be read: " + argv.get(5) + ", " + argv.get(9));
        }
    }

    private static long tenths(Duration stopTimeout) {
        return Math.max(1, stopTimeout.toMillis() / 100);
    }

    private static long centis(Duration deadman) {
        return Math.max(1, deadman.toMillis() / 10);
    }

    static List<String> command(String startCommand, Duration stopTimeout, Path childPidFile, Duration deadman) {
        return command(startCommand, stopTimeout, childPidFile, deadman, Optional.empty());
    }

    /** With {@code device} ({@code watchdog.device}): the watcher feeds it too (see the class comment). */
    static List<String> command(
            String startCommand, Duration stopTimeout, Path childPidFile, Duration deadman, Optional<Path> device) {
        return command(startCommand, stopTimeout, childPidFile, deadman, device, Optional.empty());
    }

    /** With {@code status}: the watcher reports there whether it feeds the device ({@link DeviceReport}). */
    static List<String> command(
            String startCommand,
            Duration stopTimeout,
            Path childPidFile,
            Duration deadman,
            Optional<Path> device,
            Optional<Path> status) {
        return List.of(
                "setsid",
                "/bin/bash",
                "-c",
                SCRIPT,
                NAME,
                startCommand,
                Long.toString(tenths(stopTimeout)),
                childPidFile.toString(),
                String.format(Locale.ROOT, "%.3f", deadman.toMillis() / 1000.0),
                device.map(Path::toString).orElse(""),
                Long.toString(centis(deadman)),
                status.map(Path::toString).orElse(""));
    }
}
