package io.asfc.common.config;

/**
 * One problem found in the configuration.
 *
 * @param origin where the value came from, as {@code file:line}, or the file alone for a missing key
 * @param key the full config path, e.g. {@code asfc.zookeeper.session-timeout}
 * @param message what is wrong; never contains a secret value
 */
public record ConfigProblem(String origin, String key, String message) {
    @Override
    public String toString() {
        return origin + ": " + key + ": " + message;
    }
}
