package io.asfc.agent.supervisor.command;

import io.asfc.agent.supervisor.DeadmanHandOver;
import io.asfc.agent.supervisor.DeviceReport;
import io.asfc.agent.supervisor.Lifeline;
import io.asfc.common.process.PosixEre;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
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
 * agent or the agent's ancestors. It counts the timeout on {@code /proc/uptime} and reads the pipe a
 * second at a time: one {@code read -t} of the whole timeout would not count a freeze of the whole
 * host, and after a freeze past the timeout would wait out the rest of it; this way it acts within a
 * second of resuming.
 *
 * <p>With {@code watchdog.device}, it also feeds that Linux watchdog device at least every second
 * between the agent's {@code arm} (a scheduler starts or runs) and {@code disarm} (it was stopped),
 * which it does with the magic close ({@code V}, then close). After its own stop (silence,
 * self-fence, the agent gone) it disarms only when no target is left; when one outlives SIGKILL it
 * closes the device without the magic close, and the host resets. Neither line is a renewal. A
 * frozen or killed deadman stops the feed: the host resets after the device's timeout. A device that
 * cannot be opened or written to is retried every second; meanwhile the deadman works without it.
 * Each change between feeding and failing goes to a status file ({@link DeviceReport}) that the
 * agent reads.
 *
 * <p>A hand-over ({@link io.asfc.agent.supervisor.DeadmanHandOver}) lets the next agent of the node adopt it, and the
 * scheduler with it, when the agent leaves for a rolling upgrade.
 */
final class CommandDeadman {
    private static final Logger LOG = LoggerFactory.getLogger(CommandDeadman.class);

    /**
     * bash; $ASFC_DEADMAN_PATTERN = process-pattern as a POSIX ERE (in the environment, not in argv:
     * its own command line must never match the pattern), $1 = stop timeout in tenths of a second, $2 =
     * deadman timeout in seconds (decimal), $3 = protected pids (space-separated: the agent and its
     * ancestors), $4 = pid file (may be empty), $5 = watchdog device (may be empty), $6 = deadman
     * timeout in hundredths of a second, $7 = the device's status file (may be empty; {@link
     * DeviceReport}).
     */
    private static final String SCRIPT =
            """
            pattern=$ASFC_DEADMAN_PATTERN; tenths=$1; deadman=$2; protect=" $3 "; pidfile=$4
            device=$5; centis=$6; status=$7
            errfile=${status:+$status.err}; errfile=${errfile:-/dev/null}; failures=0
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
            now() { read -r up _ < /proc/uptime; up=${up//[!0-9]/}; now=$((10#$up)); }
            report() {
              [ "$1" = "$reported" ] && return
              reported=$1
              if [ "$1" = failed ]; then
                failures=$((failures + 1))
                echo "asfc deadman: ERROR: $2; the deadman runs without it (it still stops the scheduler when renewals stop) and retries every second" >&2
              else
                echo "asfc deadman: $2 (a whole-host freeze now resets this host)" >&2
              fi
              [ -n "$status" ] && echo "$1 $mysid $failures $2" > "$status" 2>/dev/null
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
              want=
              [ -n "$fed" ] || return
              { printf V >&4; } 2>/dev/null; exec 4>&-; fed=; reported=
              echo "asfc deadman: no scheduler runs; watchdog.device $device disarmed (magic close)" >&2
            }
            settle() {
              [ -n "$want" ] || return 0
              n=0
              while [ -n "$(targets)" ] && [ "$n" -lt 50 ]; do feed; sleep 0.1; n=$((n + 1)); done
              if [ -n "$(targets)" ]; then
                echo "asfc deadman: ERROR: scheduler processes outlived SIGKILL; leaving watchdog.device $device armed and unfed: this host resets" >&2
                [ -n "$fed" ] && exec 4>&-
                fed=; want=
                return 1
              fi
              disarm
            }
            self=$$; me="asfc deadman"
            """
                    + DeadmanHandOver.SHELL
                    + """
            trap '' TERM INT HUP
            armed=1
            fifo=; waiting=
            exec 3<&0
            # With or without a device: the deadline is counted on /proc/uptime, in reads of at most a second, as
            # read -t's own timer does not count a freeze of the host (the kernel restarts the interrupted wait with
            # the time left). Without a device, want and fed stay empty: arm, feed, disarm and settle do nothing.
            want=
            now; deadline=$((now + centis))
            while :; do
              [ -n "$want" ] && [ -z "$fed" ] && arm
              feed
              now; left=$((deadline - now))
              if [ "$left" -le 0 ]; then
                if [ -n "$waiting" ]; then
                  unhand
                  stop_all "no new agent adopted the scheduler after a hand-over (deadman)"
                  settle
                  exit 0
                fi
                if [ -n "$armed" ]; then
                  stop_all "no renewal from the agent for ${deadman}s (deadman)"
                  settle
                fi
                armed=
                left=100
              fi
              [ "$left" -gt 100 ] && left=100
              printf -v t '%d.%02d' $((left / 100)) $((left % 100))
              line=
              read -r -t "$t" line <&3
              rc=$?
              if [ "$rc" -eq 0 ]; then
                case "$line" in
                  "") armed=1; now; deadline=$((now + centis)) ;;
                  stop) stop_all "the agent is self-fencing"; settle ;;
                  arm) want=1 ;;
                  disarm) disarm ;;
                  "handover "*) handover "${line#handover }" ;;
                  unhand) unhand ;;
                  adopt*) adopt "${line#adopt}" ;;
                esac
                continue
              fi
              [ "$rc" -gt 128 ] && continue
              awaiting && continue
              unhand
              stop_all "the agent is gone"
              settle
              exit 0
            done
            """;

    /** The environment variable that carries {@code process-pattern}: its own command line must never match it. */
    private static final String PATTERN = "ASFC_DEADMAN_PATTERN";

    private final List<String> command;
    private final String node;
    private final String ere;
    private final Path output;
    private Process process;
    private final Path device;
    private volatile Lifeline pipe = Lifeline.NONE;
    /** A deadman a previous agent handed over ({@link #adopt}), as first seen; null when none. */
    private ProcessHandle adopted;

    private Optional<java.time.Instant> adoptedStart = Optional.empty();

    /**
     * @param node this node's id, the deadman's mark ({@link io.asfc.common.process.ProcessOrigin})
     * @param ere {@code process-pattern} as a POSIX ERE ({@link PosixEre}; checked when the config loads)
     */
    CommandDeadman(String node, String ere, Duration stopTimeout, Duration deadman, Path pidFile, Path output) {
        this(node, ere, stopTimeout, deadman, pidFile, output, null);
    }

    /** @param device {@code watchdog.device}, fed while {@link #arm armed}; null without */
    CommandDeadman(
            String node, String ere, Duration stopTimeout, Duration deadman, Path pidFile, Path output, Path device) {
        List<Long> protect = DeadmanHandOver.protectedPids();
        this.command = List.of(
                "setsid",
                "/bin/bash",
                "-c",
                SCRIPT,
                "asfc-deadman",
                Long.toString(Math.max(1, stopTimeout.toMillis() / 100)),
                String.format(Locale.ROOT, "%.3f", deadman.toMillis() / 1000.0),
                protect.stream().map(String::valueOf).collect(Collectors.joining(" ")),
                pidFile == null ? "" : pidFile.toString(),
                device == null ? "" : device.toString(),
                Long.toString(Math.max(1, deadman.toMillis() / 10)),
                device == null ? "" : DeviceReport.statusFile(output).toString());
        this.device = device;
        this.node = node;
        this.ere = ere;
        this.output = output;
    }

    /** Starts the deadman unless it runs. */
    synchronized void ensureRunning() {
        if ((process != null && process.isAlive()) || adoptedAlive()) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(output.toAbsolutePath().getParent());
            if (device != null) {
                DeviceReport.delete(DeviceReport.statusFile(output)); // a previous deadman's
            }
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put(PATTERN, ere);
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
        pipe.renew();
    }

    /**
     * The agent self-fences: the deadman stops the scheduler now too, with its own kill clock, so an
     * agent killed during its self-fence does not start that clock again.
     */
    void stopNow() {
        pipe.stop();
    }

    /**
     * With {@code watchdog.device}: a scheduler may run (it is about to start, or runs): the deadman
     * opens the device, if not yet open, and feeds it. Not a renewal.
     */
    void arm() {
        if (device != null) {
            pipe.send("arm");
        }
    }

    /** With {@code watchdog.device}: the scheduler was confirmed stopped: the deadman disarms it (magic close). */
    void disarm() {
        if (device != null) {
            pipe.send("disarm");
        }
    }

    /** With {@code watchdog.device}: what the deadman last reported about it; empty without, or before its first report. */
    Optional<DeviceReport> report() {
        return device == null ? Optional.empty() : DeviceReport.read(DeviceReport.statusFile(output));
    }

    /** The deadman's pid, while it runs. */
    synchronized OptionalLong pid() {
        if (process != null && process.isAlive()) {
            return OptionalLong.of(process.pid());
        }
        return adoptedAlive() ? OptionalLong.of(adopted.pid()) : OptionalLong.empty();
    }

    private boolean adoptedAlive() {
        return adopted != null
                && adopted.isAlive()
                && adopted.info().startInstant().equals(adoptedStart);
    }

    /** Asks the running deadman to wait on {@code fifo} for a new agent ({@link DeadmanHandOver#request}). */
    synchronized OptionalLong handOver(Path fifo) throws InterruptedException {
        return pid().isPresent() ? DeadmanHandOver.request(pipe, fifo) : OptionalLong.empty();
    }

    /**
     * Adopts the deadman {@code pid} that a previous agent handed over on {@code fifo}, if it was started as this
     * agent would start one ({@link #misfit}).
     */
    synchronized boolean adopt(Path fifo, long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        Optional<String> misfit = misfit(
                DeadmanHandOver.argv(pid).orElse(List.of()),
                DeadmanHandOver.environment(pid, PATTERN).orElse(null));
        if (misfit.isPresent()) {
            LOG.warn("not adopting the on-host deadman (pid {}): {}", pid, misfit.get());
            return false;
        }
        Optional<Lifeline> line = handle.flatMap(h -> DeadmanHandOver.attach(fifo, pid));
        line.ifPresent(l -> {
            pipe = l;
            adopted = handle.get();
            adoptedStart = adopted.info().startInstant();
            LOG.info("adopted the on-host deadman (pid {}) that the previous agent handed over", pid);
        });
        return line.isPresent();
    }

    /**
     * Why a running deadman, started with {@code argv} and {@code pattern} (its {@code process-pattern}), must not be
     * adopted: it stops other processes than this agent's would ({@code process-pattern}, {@code pid-file}), feeds
     * another device, or has longer timeouts ({@link DeadmanHandOver#misfit}). Empty when it fits.
     */
    private Optional<String> misfit(List<String> argv, String pattern) {
        // /bin/bash -c SCRIPT asfc-deadman tenths seconds protect pid-file device centis status
        List<String> ours = command.subList(1, command.size()); // without setsid
        if (argv.size() < 10 || !ours.get(3).equals(argv.get(3))) {
            return Optional.of(
                    "it is not an asfc deadman: " + argv.stream().limit(4).toList());
        }
        if (!ere.equals(pattern)) {
            return Optional.of("it stops what matches another process-pattern");
        }
        if (!ours.get(7).equals(argv.get(7)) || !ours.get(8).equals(argv.get(8))) {
            return Optional.of("it stops the pid-file '" + argv.get(7) + "' and feeds watchdog.device '" + argv.get(8)
                    + "'; this agent's config says '" + ours.get(7) + "' and '" + ours.get(8) + "'");
        }
        try {
            return DeadmanHandOver.misfit(
                    Long.parseLong(argv.get(4)),
                    Long.parseLong(argv.get(9)),
                    Long.parseLong(ours.get(4)),
                    Long.parseLong(ours.get(9)));
        } catch (NumberFormatException e) {
            return Optional.of("its timeouts cannot be read: " + argv.get(4) + ", " + argv.get(9));
        }
    }
}
