package io.asfc.common.ssh;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.config.SshSettings;
import io.asfc.common.ssh.SshException.Reason;
import io.asfc.common.ssh.SshPhases.Phase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on other nodes over SSH (JSch), with keys only, host keys verified as configured,
 * and every call bounded: {@code connect-timeout} covers TCP, handshake and authentication (a host
 * that accepts TCP but never speaks times out), {@code command-timeout} or the caller's bound
 * covers each command, and keepalives drop a connection to a dead peer. One session per host is
 * kept and reused; calls to one host are serialized, calls to different hosts run in parallel.
 */
public final class SshClient implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(SshClient.class);
    private static final int MAX_OUTPUT = 64 * 1024 * 1024;
    /** Printed by the remote shell before the timed command: it has started by then. */
    private static final String SHELL_READY = "asfc-remote-shell-started";

    private final SshSettings settings;
    private final JSch jsch = new JSch();
    private final Map<SshTarget, Connection> connections = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Threads.factory("asfc-ssh-timer-%d", "ssh"));

    /** @throws IllegalArgumentException when an identity file cannot be used */
    public SshClient(SshSettings settings) {
        this.settings = settings;
        for (Path key : identityFiles(settings)) {
            try {
                byte[] passphrase = settings.passphrase().isEmpty()
                        ? null
                        : settings.passphrase().reveal().getBytes(StandardCharsets.UTF_8);
                jsch.addIdentity(key.toString(), passphrase);
            } catch (JSchException e) {
                throw new IllegalArgumentException("cannot use SSH identity file " + key + ": " + e.getMessage());
            }
        }
        HostKeyPolicy.install(jsch, settings);
    }

    /** The configured identity files, or the user's default keys when none are configured. */
    static List<Path> identityFiles(SshSettings settings) {
        if (!settings.identityFiles().isEmpty()) {
            return settings.identityFiles();
        }
        Path dir = Path.of(System.getProperty("user.home", "/"), ".ssh");
        List<Path> found = new ArrayList<>();
        for (String name : List.of("id_ed25519", "id_ecdsa", "id_rsa")) {
            if (Files.isReadable(dir.resolve(name))) {
                found.add(dir.resolve(name));
            }
        }
        return found;
    }

    /** Runs {@code command} on the target, bounded by {@code command-timeout}. */
    public ExecResult exec(SshTarget target, String command, byte[] stdin) throws SshException {
        return exec(target, command, stdin, settings.commandTimeout());
    }

    /** Runs {@code command} on the target with {@code stdin} as its input, bounded by {@code timeout}. */
    public ExecResult exec(SshTarget target, String command, byte[] stdin, Duration timeout) throws SshException {
        return connections.computeIfAbsent(target, Connection::new).exec(command, stdin, timeout);
    }

    /**
     * Runs {@code command} on the target over a new session of its own (not the reused one) and
     * times each phase: TCP connect, handshake and authentication, the remote shell's start, the
     * command. Never throws: a failure is reported with the phase it happened in.
     */
    public SshPhases timedProbe(SshTarget target, String command) {
        return new Connection(target).timed(command);
    }

    /** The bound of one remote command. */
    public Duration commandTimeout() {
        return settings.commandTimeout();
    }

    @Override
    public void close() {
        connections.values().forEach(Connection::drop);
        connections.clear();
        timer.shutdownNow();
    }

    static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /** One host's session, reused across calls. */
    private final class Connection {
        private final SshTarget target;
        private final Object calls = new Object();
        private volatile Session session;

        Connection(SshTarget target) {
            this.target = target;
        }

        ExecResult exec(String command, byte[] stdin, Duration timeout) throws SshException {
            synchronized (calls) {
                for (int attempt = 0; ; attempt++) {
                    Session s = session;
                    boolean reused = s != null && s.isConnected();
                    try {
                        return run(reused ? s : connect(), command, stdin, timeout);
                    } catch (StaleSessionException e) {
                        if (!reused || attempt > 0) {
                            throw new SshException(Reason.UNREACHABLE, target.host() + ": " + e.getMessage());
                        }
                        LOG.debug("SSH session to {} went stale; reconnecting", target);
                    }
                }
            }
        }

        private Session connect() throws SshException {
            drop();
            Session s = open(null);
            session = s;
            return s;
        }

        /** A new, authenticated session; {@code sockets} (if not null) opens its TCP connection. */
        private Session open(TimedSocketFactory sockets) throws SshException {
            AtomicBoolean expired = new AtomicBoolean();
            Session s;
            try {
                s = jsch.getSession(target.user(), target.host(), target.port());
            } catch (JSchException e) {
                throw classify(e, expired);
            }
            s.setConfig("StrictHostKeyChecking", "yes");
            s.setConfig("PreferredAuthentications", "publickey");
            s.setUserInfo(NoPrompts.INSTANCE);
            if (sockets != null) {
                s.setSocketFactory(sockets);
            }
            Duration bound = settings.connectTimeout();
            Session connecting = s;
            ScheduledFuture<?> guard = timer.schedule(
                    () -> {
                        expired.set(true);
                        connecting.disconnect();
                    },
                    bound.toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                s.connect((int) bound.toMillis());
                s.setServerAliveInterval((int) settings.keepaliveInterval().toMillis());
                s.setServerAliveCountMax(2);
            } catch (JSchException e) {
                s.disconnect();
                throw classify(e, expired);
            } catch (RuntimeException e) {
                // JSch fails so (NullPointerException: "this.io is null") when the guard disconnects a
                // session in the middle of its handshake: a timeout, never an unwrapped exception
                s.disconnect();
                if (expired.get()) {
                    throw timedOut("connecting", bound);
                }
                throw new SshException(Reason.UNREACHABLE, target.host() + ": " + e, e);
            } finally {
                guard.cancel(false);
            }
            if (expired.get()) {
                s.disconnect();
                throw timedOut("connecting", settings.connectTimeout());
            }
            return s;
        }

        /** {@link SshClient#timedProbe}: a session of its own, closed at the end. */
        SshPhases timed(String command) {
            Map<Phase, Duration> took = new EnumMap<>(Phase.class);
            TimedSocketFactory sockets =
                    new TimedSocketFactory((int) settings.connectTimeout().toMillis(), System::nanoTime);
            long start = System.nanoTime();
            Session s;
            try {
                s = open(sockets);
            } catch (SshException e) {
                long failed = System.nanoTime();
                OptionalLong connected = sockets.connectedAt();
                if (connected.isEmpty()) {
                    took.put(Phase.CONNECT, Duration.ofNanos(failed - start));
                    return new SshPhases(took, Phase.CONNECT, e);
                }
                took.put(Phase.CONNECT, Duration.ofNanos(connected.getAsLong() - start));
                took.put(Phase.AUTHENTICATE, Duration.ofNanos(failed - connected.getAsLong()));
                return new SshPhases(took, Phase.AUTHENTICATE, e);
            }
            long authenticated = System.nanoTime();
            long connected = sockets.connectedAt().orElse(start);
            took.put(Phase.CONNECT, Duration.ofNanos(connected - start));
            took.put(Phase.AUTHENTICATE, Duration.ofNanos(authenticated - connected));
            try {
                return shellAndCommand(s, command, took);
            } finally {
                s.disconnect();
            }
        }

        /**
         * Runs {@code echo READY; command}: the marker's arrival ends the remote shell's start, the exit
         * status ends the command. Both are bounded together by {@code command-timeout}.
         */
        private SshPhases shellAndCommand(Session s, String command, Map<Phase, Duration> took) {
            Duration timeout = settings.commandTimeout();
            AtomicBoolean expired = new AtomicBoolean();
            ScheduledFuture<?> guard = timer.schedule(
                    () -> {
                        expired.set(true);
                        s.disconnect();
                    },
                    timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            long opened = System.nanoTime();
            long ready = -1;
            ChannelExec channel = null;
            try {
                channel = (ChannelExec) s.openChannel("exec");
                channel.setCommand("echo " + SHELL_READY + "; " + command);
                channel.setInputStream(new ByteArrayInputStream(new byte[0]));
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                channel.setErrStream(err, true);
                InputStream in = channel.getInputStream();
                channel.connect((int) settings.connectTimeout().toMillis());
                ready = awaitMarker(in);
                took.put(Phase.SHELL_START, Duration.ofNanos(ready - opened));
                readAll(in);
                while (!channel.isClosed() && !expired.get()) {
                    Thread.sleep(2); // the exit status follows the end of output by a packet or two
                }
                if (expired.get()) {
                    throw timedOut("running a command", timeout);
                }
                took.put(Phase.COMMAND, Duration.ofNanos(System.nanoTime() - ready));
                int exit = channel.getExitStatus();
                if (exit != 0) {
                    return new SshPhases(
                            took,
                            Phase.COMMAND,
                            new SshException(
                                    Reason.COMMAND_FAILED,
                                    "'" + command + "' exited with " + exit + ": "
                                            + err.toString(StandardCharsets.UTF_8)
                                                    .trim()));
                }
                return new SshPhases(took, null, null);
            } catch (SshException e) {
                return failedAfter(took, opened, ready, e);
            } catch (JSchException | IOException | RuntimeException e) {
                // RuntimeException: JSch on a session the guard dropped mid-command
                SshException why = expired.get()
                        ? timedOut(ready < 0 ? "starting the remote shell" : "running a command", timeout)
                        : new SshException(Reason.UNREACHABLE, target.host() + ": " + e.getMessage(), e);
                return failedAfter(took, opened, ready, why);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failedAfter(
                        took, opened, ready, new SshException(Reason.UNREACHABLE, target.host() + ": interrupted"));
            } finally {
                guard.cancel(false);
                if (channel != null) {
                    channel.disconnect();
                }
            }
        }

        private SshPhases failedAfter(Map<Phase, Duration> took, long opened, long ready, SshException e) {
            long now = System.nanoTime();
            if (ready < 0) {
                took.put(Phase.SHELL_START, Duration.ofNanos(now - opened));
                return new SshPhases(took, Phase.SHELL_START, e);
            }
            took.put(Phase.COMMAND, Duration.ofNanos(now - ready));
            return new SshPhases(took, Phase.COMMAND, e);
        }

        /** Reads until the marker's line has arrived; returns when (a {@code nanoTime}). */
        private long awaitMarker(InputStream in) throws IOException {
            byte[] marker = (SHELL_READY + "\n").getBytes(StandardCharsets.US_ASCII);
            int matched = 0;
            long seen = 0;
            int b;
            while ((b = in.read()) >= 0) {
                if (++seen > MAX_OUTPUT) {
                    throw new IOException("remote output exceeds " + MAX_OUTPUT + " bytes");
                }
                matched = b == marker[matched] ? matched + 1 : (b == marker[0] ? 1 : 0);
                if (matched == marker.length) {
                    return System.nanoTime();
                }
            }
            throw new IOException("the remote shell closed the channel before running the command");
        }

        private ExecResult run(Session s, String command, byte[] stdin, Duration timeout)
                throws SshException, StaleSessionException {
            ChannelExec channel;
            try {
                channel = (ChannelExec) s.openChannel("exec");
                channel.setCommand(command);
                channel.setInputStream(
                        stdin == null ? new ByteArrayInputStream(new byte[0]) : new ByteArrayInputStream(stdin));
            } catch (JSchException e) {
                drop();
                throw new StaleSessionException(e.getMessage());
            }
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            channel.setErrStream(err, true);
            AtomicBoolean expired = new AtomicBoolean();
            ScheduledFuture<?> guard = timer.schedule(
                    () -> {
                        expired.set(true);
                        drop(); // a hung command or host: the session goes, the next call reconnects
                    },
                    timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                InputStream in = channel.getInputStream();
                try {
                    channel.connect((int) settings.connectTimeout().toMillis());
                } catch (JSchException e) {
                    if (expired.get()) {
                        throw timedOut("running a command", timeout);
                    }
                    drop();
                    throw new StaleSessionException(e.getMessage());
                }
                byte[] out = readAll(in);
                while (!channel.isClosed() && !expired.get()) {
                    Thread.sleep(2); // the exit status follows the end of output by a packet or two
                }
                if (expired.get()) {
                    throw timedOut("running a command", timeout);
                }
                return new ExecResult(channel.getExitStatus(), out, err.toString(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                // RuntimeException: JSch on a session the guard dropped mid-command
                if (expired.get()) {
                    throw timedOut("running a command", timeout);
                }
                drop();
                throw new SshException(Reason.UNREACHABLE, target.host() + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                drop();
                throw new SshException(Reason.UNREACHABLE, target.host() + ": interrupted");
            } finally {
                guard.cancel(false);
                channel.disconnect();
            }
        }

        private byte[] readAll(InputStream in) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (out.size() + n > MAX_OUTPUT) {
                    throw new IOException("remote output exceeds " + MAX_OUTPUT + " bytes");
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        }

        void drop() {
            Session s = session;
            session = null;
            if (s != null) {
                s.disconnect();
            }
        }

        private SshException timedOut(String doing, Duration bound) {
            return new SshException(
                    Reason.TIMED_OUT, "timed out after " + seconds(bound) + " " + doing + " (" + target + ")");
        }

        private SshException classify(JSchException e, AtomicBoolean expired) {
            Throwable cause = e.getCause();
            String message = String.valueOf(e.getMessage());
            if (e instanceof JSchChangedHostKeyException || message.contains("HostKey has been changed")) {
                return new SshException(
                        Reason.HOST_KEY_MISMATCH,
                        "host key mismatch: " + target.host() + " presented a key that differs from "
                                + settings.knownHosts() + " (if the host was reinstalled, replace its entry)");
            }
            if (e instanceof JSchUnknownHostKeyException || message.contains("reject HostKey")) {
                return new SshException(
                        Reason.HOST_KEY_UNKNOWN,
                        "host key unknown: " + target.host() + ":" + target.port() + " is not in "
                                + settings.knownHosts()
                                + " (add it with ssh-keyscan, or set strict-host-key-checking = accept-new)");
            }
            if (cause instanceof UnknownHostException) {
                return new SshException(Reason.UNKNOWN_HOST, "unknown host " + target.host());
            }
            if (cause instanceof ConnectException) {
                return new SshException(
                        Reason.CONNECTION_REFUSED, "connection refused by " + target.host() + ":" + target.port());
            }
            if (expired.get()
                    || cause instanceof SocketTimeoutException
                    || String.valueOf(e.getMessage()).toLowerCase().contains("timeout")) {
                return timedOut("connecting", settings.connectTimeout());
            }
            if (String.valueOf(e.getMessage()).startsWith("Auth ")) {
                return new SshException(
                        Reason.AUTH_FAILED,
                        "authentication failed for " + target.user() + "@" + target.host()
                                + " (is the agent's public key in that user's authorized_keys?)");
            }
            return new SshException(Reason.UNREACHABLE, target.host() + ": " + e.getMessage(), e);
        }
    }

    /** A reused session turned out to be dead. */
    private static final class StaleSessionException extends Exception {
        StaleSessionException(String message) {
            super(message);
        }
    }
}
