package io.asfc.agent.zk;

import java.util.Map;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * A ZooKeeper client config in which the keys asfc configures are asfc's alone. ZooKeeper seeds every
 * client config from JVM-wide system properties, and overwriting a seeded key logs the old and the
 * new value at DEBUG, a password included. So asfc's keys are never written into the config: every
 * read answers them first, and falls back to ZooKeeper's own values (system properties) for the rest.
 */
final class OwnedClientConfig extends ZKClientConfig {
    private final Map<String, String> owned;

    OwnedClientConfig(Map<String, String> owned) {
        this.owned = Map.copyOf(owned);
    }

    @Override
    public String getProperty(String key) {
        String value = ownedValue(key);
        return value != null ? value : super.getProperty(key);
    }

    @Override
    public String getProperty(String key, String defaultValue) {
        String value = ownedValue(key);
        return value != null ? value : super.getProperty(key, defaultValue);
    }

    private String ownedValue(String key) {
        // ZooKeeper's constructor may read before this class's fields are set
        return owned == null ? null : owned.get(key);
    }
}
