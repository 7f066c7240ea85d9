package io.asfc.common.ssh;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * How long each phase of one fresh SSH call took ({@link SshClient#timedProbe}), and in which phase
 * it failed, if it did. A phase that failed has its time up to the failure; a phase never reached
 * has none.
 *
 * @param took the time of every phase that was started, in order
 * @param failedIn the phase that failed; null when the call succeeded
 * @param failure why; null when the call succeeded
 */
public record SshPhases(Map<Phase, Duration> took, Phase failedIn, SshException failure) {

    /** The phases of an SSH call, in order. */
    public enum Phase {
        /** The TCP connection to the host's SSH port. */
        CONNECT("connect"),
        /** The SSH handshake: key exchange, host key check, public-key authentication. */
        AUTHENTICATE("authenticate"),
        /**
         * From opening the command's channel until the remote user's shell runs the command: the
         * shell's startup files ({@code ~/.bashrc}, which bash reads for ssh commands too).
         */
        SHELL_START("remote shell start"),
        /** The command itself, until its exit status arrives. */
        COMMAND("command");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public SshPhases {
        EnumMap<Phase, Duration> copy = new EnumMap<>(Phase.class);
        copy.putAll(took);
        took = Collections.unmodifiableMap(copy);
        if ((failedIn == null) != (failure == null)) {
            throw new IllegalArgumentException("failedIn and failure go together");
        }
    }

    public boolean ok() {
        return failure == null;
    }

    /** The phase that took longest. */
    public Phase slowest() {
        return took.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey)
                .orElse(Phase.CONNECT);
    }

    /** The time of one phase, if it was reached. */
    public Optional<Duration> of(Phase phase) {
        return Optional.ofNullable(took.get(phase));
    }

    /**
     * The remote shell's startup is the problem: it timed out, or took at least half of {@code
     * commandTimeout}, which leaves a real command (a stop) less than half its bound. Every SSH
     * command of the controller pays this time again.
     */
    public boolean slowShell(Duration commandTimeout) {
        if (failedIn == Phase.SHELL_START && failure.reason() == SshException.Reason.TIMED_OUT) {
            return true;
        }
        return of(Phase.SHELL_START)
                .filter(d -> d.multipliedBy(2).compareTo(commandTimeout) >= 0)
                .isPresent();
    }

    /**
     * One line for an operator: "ok", or what failed and where, naming a slow remote shell as such
     * (not as "unreachable").
     */
    public String verdict(Duration commandTimeout) {
        String login = "login took "
                + ms(of(Phase.CONNECT)
                        .orElse(Duration.ZERO)
                        .plus(of(Phase.AUTHENTICATE).orElse(Duration.ZERO)));
        if (slowShell(commandTimeout)) {
            String what = ok()
                    ? "ok, but the remote shell start took " + ms(took.get(Phase.SHELL_START))
                            + ", at least half of ssh.command-timeout " + ms(commandTimeout)
                    : "the remote shell start timed out after " + ms(commandTimeout);
            return what + " (" + login + "): the remote user's shell startup files (~/.bashrc, ~/.profile,"
                    + " /etc/profile.d) are slow, not the network; every SSH command, stops included, waits"
                    + " for them";
        }
        if (ok()) {
            return "ok";
        }
        return failedIn.label() + " failed: " + failure.getMessage();
    }

    /** e.g. {@code connect=1ms authenticate=52ms remote-shell-start=4ms command=1ms}. */
    public String summary() {
        StringBuilder text = new StringBuilder();
        took.forEach((phase, d) -> text.append(text.isEmpty() ? "" : " ")
                .append(phase.label().replace(' ', '-'))
                .append('=')
                .append(ms(d))
                .append(phase == failedIn ? "(failed)" : ""));
        return text.toString();
    }

    private static String ms(Duration d) {
        return d.toMillis() + "ms";
    }
}
