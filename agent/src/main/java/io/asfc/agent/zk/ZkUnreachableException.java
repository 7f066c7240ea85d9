package io.asfc.agent.zk;

/** ZooKeeper could not be reached within the connection timeout (exit code 69). */
public final class ZkUnreachableException extends RuntimeException {
    public ZkUnreachableException(String message) {
        super(message);
    }
}
