package io.asfc.common.zk;

/**
 * A record read from a znode: its value and schema version, or why there is no value.
 *
 * @param value the record, only when {@link Outcome#READ}
 * @param schema the record's schema version; null when {@link Outcome#MALFORMED}
 */
public record Decoded<T>(Outcome outcome, T value, SchemaVersion schema) {
    public enum Outcome {
        /** Of this major version or an older one: {@code value} holds it. */
        READ,
        /** Empty, not JSON, the wrong shape or an invalid value (S5): logged and ignored. */
        MALFORMED,
        /**
         * Written by an agent of a newer major schema: not garbage, but not to be acted on; an agent
         * that meets one does not become ACTIVE (docs/UPGRADE.md).
         */
        NEWER
    }

    static <T> Decoded<T> read(T value, SchemaVersion schema) {
        return new Decoded<>(Outcome.READ, value, schema);
    }

    static <T> Decoded<T> malformed() {
        return new Decoded<>(Outcome.MALFORMED, null, null);
    }

    static <T> Decoded<T> newer(SchemaVersion schema) {
        return new Decoded<>(Outcome.NEWER, null, schema);
    }
}
