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
import java.util.List;
import java.util.Map;
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
            session = s;
            return s;
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
