package io.asfc.common.zk;

import java.util.Optional;
import org.apache.zookeeper.KeeperException;

/**
 * A ZooKeeper call failed for a reason its caller does not handle itself (the caller handles an
 * absent node or a lost race where they mean something): connection loss, a refused ACL, an expired
 * session, an interruption. The message names the path. Curator declares {@code throws Exception};
 * {@link #call} keeps that inside the adapters.
 *
 * <p>When the cause is an {@link InterruptedException}, the constructor sets the thread's interrupt
 * flag again, so wrapping never swallows an interrupt.
 */
public final class ZkException extends RuntimeException {
    private final String path;

    public ZkException(String path, Exception cause) {
        super(path + ": " + reason(cause), cause);
        this.path = path;
        if (cause instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
    }

    /** The path the failed call was about. */
    public String path() {
        return path;
    }

    /** The error ZooKeeper reported, e.g. {@code CONNECTIONLOSS}; empty when it was not a ZooKeeper error. */
    public Optional<KeeperException.Code> code() {
        return getCause() instanceof KeeperException k ? Optional.of(k.code()) : Optional.empty();
    }

    /**
     * Whether {@code e}, or one of its causes, is ZooKeeper saying the connection or the session is
     * gone: expected while ZooKeeper is away, and logged once as a connection change, not per call.
     */
    public static boolean isConnectionLoss(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KeeperException k
                    && (k.code() == KeeperException.Code.CONNECTIONLOSS
                            || k.code() == KeeperException.Code.SESSIONEXPIRED
                            || k.code() == KeeperException.Code.OPERATIONTIMEOUT)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** One Curator call, which may throw anything. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws Exception;
    }

    /**
     * Runs {@code call}: unchecked exceptions pass unchanged (e.g. a fencing refusal), checked ones
     * become a {@link ZkException} that names {@code path}.
     */
    public static <T> T call(String path, Call<T> call) {
        try {
            return call.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ZkException(path, e);
        }
    }

    private static String reason(Exception cause) {
        if (cause instanceof InterruptedException) {
            return "interrupted";
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }
}
