package io.asfc.common.ssh;

import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessInfo;
import io.asfc.common.process.ProcessMatcher;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.ssh.SshException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The scheduler on another node, over SSH. Every remote command is asfc's fixed helper script
 * ({@code remote-scheduler.sh}, sent on standard input) with arguments taken only from the local
 * config or from pids that helper reported (S5).
 *
 * <p>Looking uses the same {@link ProcessMatcher} as the local agent: the helper only dumps the
 * remote process table, and the match happens here, with the helper's own shell, its ancestors
 * (sshd) and its children protected, so a check never matches itself.
 */
public final class RemoteScheduler {
    private static final byte[] SCRIPT = load();
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int STOP_ROUNDS = 3;
    /** The helper's exit code for a start refused by the fencing token. */
    private static final int REFUSED = 75;

    /** The operations on another node, as {@code asfc_ssh_operations_total{op}} counts them. */
    public enum Op {
        /** {@link #probe}: reachable, authenticated, able to run a command. */
        PROBE,
        /** {@link #look}: the process listing. */
        LOOK,
        /** {@link #stopAll}, {@link #stopExactly} and {@link #fence}. */
        STOP,
        /** {@link #start} on an agentless node. */
        START;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Told how each operation ended, e.g. to count it; called on the caller's thread, so it must be quick. */
    @FunctionalInterface
    public interface Outcomes {
        Outcomes NONE = (op, ok) -> {};

        void ended(Op op, boolean ok);
    }

    /** One operation whose outcome is reported. */
    @FunctionalInterface
    private interface Call<T> {
        T run() throws SshException;
    }

    /**
     * What one look at a node found: the processes that process-pattern matches ({@code
     * schedulers}) and their trees, those of them that are not helpers ({@code mains}), and the pids
     * of every process there.
     */
    public record Look(
            List<ProcessInfo> schedulers, List<ProcessInfo> mains, Map<Long, ProcessInfo> trees, Set<Long> alive) {
        /** A scheduler runs: a match that is not a helper. Helpers alone are what a dead main left. */
        public boolean running() {
            return !mains.isEmpty();
        }

        /** Anything matches process-pattern, helpers included: what a stray sweep stops. */
        public boolean anyMatch() {
            return !schedulers.isEmpty();
        }

        /** Whether a process with this pid exists there (whatever it runs). */
        public boolean alive(long pid) {
            return alive.contains(pid);
        }

        /** e.g. "pid 123 (airflow scheduler)"; the mains when there are any, else every match. */
        public String describe() {
            return (mains.isEmpty() ? schedulers : mains)
                    .stream()
                            .map(p -> "pid " + p.pid() + " (" + abbreviate(p.cmdline()) + ")")
                            .collect(Collectors.joining(", "));
        }
    }

    /** What a stop did: how many processes it signalled, and whether any needed SIGKILL. */
    public record Stop(int signalled, boolean killed) {
        Stop plus(Stop other) {
            return new Stop(signalled + other.signalled, killed || other.killed);
        }

        public String describe() {
            return signalled == 0
                    ? "nothing was running"
                    : signalled + " process(es) stopped" + (killed ? ", some only by SIGKILL after stop-timeout" : "");
        }
    }

    private final SshClient ssh;
    private final SchedulerSettings scheduler;
    private final Pattern pattern;
    private final Optional<Pattern> helperPattern;
    private final Outcomes outcomes;
    private final String tokenDir;

    /** @throws IllegalArgumentException when an environment variable name could not be passed safely */
    public RemoteScheduler(SshClient ssh, SchedulerSettings scheduler) {
        this(ssh, scheduler, Outcomes.NONE);
    }

    public RemoteScheduler(SshClient ssh, SchedulerSettings scheduler, Outcomes outcomes) {
        this(ssh, scheduler, "default", outcomes);
    }

    /**
     * @param cluster names the fencing token's directory on each host, {@link #tokenDir}
     * @param outcomes told how every public operation ended (the inner steps of a stop are not counted apart)
     * @throws IllegalArgumentException when an environment variable name could not be passed safely
     */
    public RemoteScheduler(SshClient ssh, SchedulerSettings scheduler, String cluster, Outcomes outcomes) {
        this.outcomes = outcomes;
        this.tokenDir = tokenDir(cluster);
        this.ssh = ssh;
        this.scheduler = scheduler;
        this.pattern = Pattern.compile(scheduler.processPattern());
        this.helperPattern = scheduler.helperPattern().map(Pattern::compile);
        scheduler.environment().keySet().stream()
                .filter(name -> !ENV_NAME.matcher(name).matches())
                .findFirst()
                .ifPresent(name -> {
                    throw new IllegalArgumentException(
                            "asfc.scheduler.environment: \"" + name + "\" is not a valid variable name");
                });
    }

    /** Runs {@code true}: reachable, authenticated and able to run a command. */
    public void probe(SshTarget target) throws SshException {
        counted(Op.PROBE, () -> {
            doProbe(target);
            return null;
        });
    }

    private void doProbe(SshTarget target) throws SshException {
        ExecResult r = ssh.exec(target, "true", null);
        if (r.exitCode() != 0) {
            throw new SshException(
                    Reason.COMMAND_FAILED,
                    "'true' exited with " + r.exitCode() + ": " + r.stderr().trim());
        }
    }

    public Look look(SshTarget target) throws SshException {
        return counted(Op.LOOK, () -> doLook(target));
    }

    private Look doLook(SshTarget target) throws SshException {
        return doLook(target, Set.of());
    }

    private Look doLook(SshTarget target, Set<Long> started) throws SshException {
        ExecResult r = ssh.exec(target, "sh -s -- dump", SCRIPT);
        if (r.exitCode() != 0) {
            throw new SshException(
                    Reason.COMMAND_FAILED,
                    "the process listing on " + target.host() + " failed (exit " + r.exitCode() + "): "
                            + r.stderr().trim());
        }
        return parse(r.stdout(), pattern, helperPattern, started);
    }

    /**
     * Stops every scheduler process on the node: SIGTERM to the trees, SIGKILL after
     * {@code stop-timeout}, looking again until none is left.
     *
     * @throws SshException when the host cannot be reached, or processes survive SIGKILL
     */
    public Stop stopAll(SshTarget target) throws SshException {
        return counted(Op.STOP, () -> doStopAll(target, Set.of(), () -> {}));
    }

    /** Whether a stop may go on; throws (and the stop ends, nothing signalled) when it may not. */
    @FunctionalInterface
    public interface Permit {
        void check() throws SshException;
    }

    /**
     * {@link #stopAll}, plus the process trees rooted at {@code started} (pids of starts that may
     * not carry the scheduler's title yet: a start-command still on its way), and {@code permit}
     * checked after every look and before every kill, so a stop whose right ended during the look
     * (a deposed leader's) never signals what it saw.
     */
    public Stop stopAll(SshTarget target, Set<Long> started, Permit permit) throws SshException {
        return counted(Op.STOP, () -> doStopAll(target, started, permit));
    }

    private Stop doStopAll(SshTarget target, Set<Long> started, Permit permit) throws SshException {
        Stop total = new Stop(0, false);
        for (int round = 0; round < STOP_ROUNDS; round++) {
            Look look = doLook(target, started);
            if (look.trees().isEmpty()) {
                return total;
            }
            permit.check();
            total = total.plus(doStopExactly(target, look.trees().values()));
        }
        Look last = doLook(target, started);
        if (last.trees().isEmpty()) {
            return total;
        }
        throw new SshException(
                Reason.COMMAND_FAILED,
                "scheduler processes keep appearing on " + target.host() + ": " + last.describe());
    }

    /**
     * Stops exactly these processes (each checked by pid and start time, so a reused pid is never
     * signalled): SIGTERM, then SIGKILL after {@code stop-timeout}.
     */
    public Stop stopExactly(SshTarget target, Collection<ProcessInfo> processes) throws SshException {
        return counted(Op.STOP, () -> doStopExactly(target, processes));
    }

    private Stop doStopExactly(SshTarget target, Collection<ProcessInfo> processes) throws SshException {
        if (processes.isEmpty()) {
            return new Stop(0, false);
        }
        long tenths = Math.max(1, (scheduler.stopTimeout().toMillis() + 99) / 100);
        String targets =
                processes.stream().map(p -> p.pid() + ":" + p.startTicks()).collect(Collectors.joining(" "));
        ExecResult r = ssh.exec(
                target,
                "sh -s -- stop " + tenths + " " + targets,
                SCRIPT,
                ssh.commandTimeout().plus(scheduler.stopTimeout()).plusSeconds(5));
        if (r.exitCode() != 0) {
            throw new SshException(
                    Reason.COMMAND_FAILED,
                    "stopping the scheduler on " + target.host() + " failed (exit " + r.exitCode() + "): "
                            + (r.out() + " " + r.stderr()).trim());
        }
        return new Stop(processes.size(), r.out().contains("killed"));
    }

    /**
     * Where the fencing token lives on every host, relative to the SSH user's home: {@code
     * .asfc/<cluster>}, holding {@code epoch} (the token) and {@code lock} (flock(1)).
     */
    public static String tokenDir(String cluster) {
        return ".asfc/" + cluster;
    }

    /**
     * Fences the node: records {@code epoch} as its token unless a greater one is recorded, under
     * the host's lock, so no start of an older leadership runs there afterwards. Run before a host
     * stop and a stray stop.
     *
     * @return the token now recorded there
     * @throws SshException when it could not be recorded (unreachable, disk full, no flock(1)): the
     *     stop must go on all the same
     */
    public long fence(SshTarget target, long epoch) throws SshException {
        return counted(Op.STOP, () -> {
            ExecResult r = ssh.exec(target, "sh -s -- fence " + quote(tokenDir) + " " + epoch, SCRIPT);
            String out = r.out().trim();
            if (r.exitCode() != 0 || !out.startsWith("fenced ")) {
                throw new SshException(
                        Reason.COMMAND_FAILED,
                        "recording epoch " + epoch + " in ~/" + tokenDir + "/epoch on " + target.host()
                                + " failed (exit " + r.exitCode() + "): " + (out + " " + r.stderr()).trim());
            }
            return Long.parseLong(out.substring("fenced ".length()).trim());
        });
    }

    /**
     * Starts the scheduler on an agentless node, detached in its own session, so the SSH call
     * returns at once, unless the node was fenced at a newer epoch than {@code epoch}. Its output
     * goes to {@code asfc-scheduler-<node>.out} in the remote user's home directory.
     *
     * @return the pid of the started shell
     * @throws StaleEpochException when a newer leader fenced the node: nothing was started
     * @throws SshException otherwise, e.g. when the epoch could not be recorded (nothing was started)
     */
    public long start(SshTarget target, long epoch) throws SshException {
        return counted(Op.START, () -> doStart(target, epoch));
    }

    /** What a remote start sends: the command line (visible to {@code ps} there) and the script on stdin. */
    record Invocation(String command, byte[] stdin) {}

    /**
     * The remote start. {@code scheduler.environment} travels on standard input, as {@code export}
     * lines before the script, never in the command line, which any user of that host can read; so
     * does the mark {@code ASFC_NODE=<node>} ({@link ProcessOrigin}).
     */
    Invocation startInvocation(SshTarget target, long epoch) {
        List<String> args = List.of(
                tokenDir,
                Long.toString(epoch),
                "asfc-scheduler-" + target.node() + ".out",
                scheduler.virtualenv().map(Object::toString).orElse("-"),
                scheduler.startCommand());
        StringBuilder exports = new StringBuilder();
        scheduler.environment().forEach((name, value) -> exports.append("export ")
                .append(name)
                .append('=')
                .append(quote(value))
                .append('\n'));
        // the mark of a scheduler asfc started, for this node: no agent takes it for a foreign one
        exports.append("export ")
                .append(ProcessOrigin.VARIABLE)
                .append('=')
                .append(quote(target.node()))
                .append('\n');
        byte[] head = exports.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] stdin = new byte[head.length + SCRIPT.length];
        System.arraycopy(head, 0, stdin, 0, head.length);
        System.arraycopy(SCRIPT, 0, stdin, head.length, SCRIPT.length);
        return new Invocation(
                "sh -s -- start " + args.stream().map(RemoteScheduler::quote).collect(Collectors.joining(" ")), stdin);
    }

    private long doStart(SshTarget target, long epoch) throws SshException {
        Invocation start = startInvocation(target, epoch);
        ExecResult r = ssh.exec(target, start.command(), start.stdin());
        String out = r.out().trim();
        if (r.exitCode() == REFUSED && out.startsWith("refused ")) {
            throw new StaleEpochException(
                    target.host(),
                    tokenDir + "/epoch",
                    epoch,
                    Long.parseLong(out.substring("refused ".length()).trim()));
        }
        if (r.exitCode() != 0 || !out.startsWith("started ")) {
            throw new SshException(
                    Reason.COMMAND_FAILED,
                    "starting the scheduler on " + target.host() + " failed (exit " + r.exitCode() + "): "
                            + (out + " " + r.stderr()).trim());
        }
        return Long.parseLong(out.substring("started ".length()).trim());
    }

    private <T> T counted(Op op, Call<T> call) throws SshException {
        boolean ok = false;
        try {
            T result = call.run();
            ok = true;
            return result;
        } finally {
            outcomes.ended(op, ok);
        }
    }

    /** One word for a POSIX shell: single-quoted, with embedded single quotes escaped. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }

    /**
     * Parses the helper's dump: "self PID", "STAT", stat lines, "CMDLINE", NUL-separated records. The
     * trees rooted at the live pids of {@code started} count as the scheduler's as well.
     */
    static Look parse(byte[] dump, Pattern pattern, Optional<Pattern> helperPattern, Set<Long> started)
            throws SshException {
        String all = new String(dump, StandardCharsets.ISO_8859_1);
        int marker = all.indexOf("\nCMDLINE\n");
        if (!all.startsWith("self ") || marker < 0) {
            throw new SshException(Reason.COMMAND_FAILED, "unexpected output from the remote helper");
        }
        String[] head = all.substring(0, marker).split("\n");
        long self = Long.parseLong(head[0].substring("self ".length()).trim());
        Map<Long, List<String>> args = new HashMap<>();
        byte[] tail = all.substring(marker + "\nCMDLINE\n".length()).getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        for (int i = 0; i <= tail.length; i++) {
            if (i == tail.length || tail[i] == 0) {
                record(new String(tail, from, i - from, StandardCharsets.UTF_8), args);
                from = i + 1;
            }
        }
        List<ProcessInfo> processes = new ArrayList<>();
        for (int i = 2; i < head.length; i++) {
            String stat = new String(head[i].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            int space = stat.indexOf(' ');
            if (space <= 0) {
                continue;
            }
            List<String> a;
            try {
                a = args.getOrDefault(Long.parseLong(stat.substring(0, space)), List.of());
            } catch (NumberFormatException e) {
                continue;
            }
            ProcessTable.parse(stat, String.join(" ", a)).ifPresent(processes::add);
        }
        ProcessTable table = ProcessTable.of(processes);
        ProcessMatcher matcher = new ProcessMatcher(pattern, self);
        List<ProcessInfo> schedulers = matcher.find(table, Set.of(self));
        List<Long> roots =
                new ArrayList<>(schedulers.stream().map(ProcessInfo::pid).toList());
        table.all().stream()
                .map(ProcessInfo::pid)
                .filter(started::contains)
                .filter(pid -> pid != self)
                .forEach(roots::add);
        return new Look(
                schedulers,
                ProcessMatcher.mains(schedulers, helperPattern),
                matcher.trees(table, roots, Set.of(self)),
                table.all().stream().map(ProcessInfo::pid).collect(Collectors.toUnmodifiableSet()));
    }

    private static void record(String record, Map<Long, List<String>> args) {
        int at = record.indexOf("/cmdline:");
        if (!record.startsWith("/proc/") || at < 0) {
            return;
        }
        try {
            long pid = Long.parseLong(record.substring("/proc/".length(), at));
            args.computeIfAbsent(pid, p -> new ArrayList<>()).add(record.substring(at + "/cmdline:".length()));
        } catch (NumberFormatException e) {
            // not a process directory
        }
    }

    private static String abbreviate(String cmdline) {
        return cmdline.length() <= 80 ? cmdline : cmdline.substring(0, 77) + "...";
    }

    private static byte[] load() {
        try (InputStream in = RemoteScheduler.class.getResourceAsStream("remote-scheduler.sh")) {
            if (in == null) {
                throw new IllegalStateException("remote-scheduler.sh is missing from the asfc-common jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
