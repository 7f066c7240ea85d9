package io.asfc.agent.zk;

/** A ZooKeeper call on a path failed (connection loss, no session, an unexpected server error). */
public final class ZkCallException extends RuntimeException {
    public ZkCallException(String path, Throwable cause) {
        super("ZooKeeper call on " + path + " failed: " + cause, cause);
    }
}
