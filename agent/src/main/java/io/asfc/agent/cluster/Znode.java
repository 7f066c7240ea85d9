package io.asfc.agent.cluster;

import io.asfc.common.zk.Decoded;
import io.asfc.common.zk.Json;
import io.asfc.common.zk.ZkException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A znode read fresh from ZooKeeper: absent, malformed (logged once, then to be ignored: S5), of a
 * newer major schema (logged once, never acted on: docs/UPGRADE.md), or present with its decoded
 * value and stat.
 */
public record Znode<T>(State state, T value, Stat stat) {
    public enum State {
        ABSENT,
        MALFORMED,
        /** Written by an agent of a newer major schema: not acted on, like garbage, but not garbage. */
        NEWER,
        PRESENT
    }

    /** @throws ZkException when ZooKeeper cannot answer; an absent node is {@link State#ABSENT}, not an error */
    public static <T> Znode<T> read(CuratorFramework client, String path, Class<T> type) {
        Stat stat = new Stat();
        byte[] data;
        try {
            data = client.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return new Znode<>(State.ABSENT, null, null);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ZkException(path, e);
        }
        Decoded<T> decoded = Json.read(path, data, type);
        return switch (decoded.outcome()) {
            case READ -> new Znode<>(State.PRESENT, decoded.value(), stat);
            case NEWER -> new Znode<>(State.NEWER, null, stat);
            case MALFORMED -> new Znode<>(State.MALFORMED, null, stat);
        };
    }

    public boolean present() {
        return state == State.PRESENT;
    }

    public boolean absent() {
        return state == State.ABSENT;
    }

    /** There, but not to be acted on: malformed, or of a newer major schema. */
    public boolean unreadable() {
        return state == State.MALFORMED || state == State.NEWER;
    }
}
