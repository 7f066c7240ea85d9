package io.asfc.common.zk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UTF-8 JSON of every znode. Every record is written with its {@link SchemaVersion} first.
 * Decoding never throws: malformed or invalid data (for example written by hand with zkCli) is
 * logged with its path and read as absent (S5); so is a record of a newer major schema, which
 * {@link #read} tells apart from garbage.
 */
public final class Json {
    private static final Logger LOG = LoggerFactory.getLogger(Json.class);

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // A field added by a newer version is absent in an older agent's record: it reads as null
            // ("not proven"), never as malformed. Fields a record cannot do without are marked
            // @JsonProperty(required = true) or checked in its constructor.
            .disable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .build();

    /** Paths and contents already warned about, so that one bad znode gives one WARN, not one per read. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private static final int MAX_WARNED = 10_000;

    private Json() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** The record as JSON, with {@code "schemaVersion": "}{@link SchemaVersion#CURRENT}{@code "} first. */
    public static byte[] encode(Object value) {
        try {
            JsonNode tree = MAPPER.valueToTree(value);
            if (!tree.isObject()) {
                return MAPPER.writeValueAsBytes(tree);
            }
            ObjectNode versioned = MAPPER.createObjectNode();
            versioned.put(SchemaVersion.FIELD, SchemaVersion.CURRENT.toString());
            versioned.setAll((ObjectNode) tree);
            return MAPPER.writeValueAsBytes(versioned);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    public static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The decoded value, or empty (with a WARN naming the path) when the data is missing, malformed,
     * or of a newer major schema.
     */
    public static <T> Optional<T> decode(String path, byte[] data, Class<T> type) {
        return Optional.ofNullable(read(path, data, type).value());
    }

    /**
     * The record in {@code data}, of this major schema or an older one, with its version; or why there
     * is none: malformed (logged once), or of a newer major (logged once, not to be acted on).
     * Unknown fields, e.g. those of a newer minor, are ignored. Never throws.
     */
    public static <T> Decoded<T> read(String path, byte[] data, Class<T> type) {
        if (data == null || data.length == 0) {
            warnOnce(path, data, "ignoring empty data in {} (expected {} JSON){}", type, "");
            return Decoded.malformed();
        }
        try {
            JsonNode tree = MAPPER.readTree(data);
            if (tree == null || !tree.isObject()) {
                warnOnce(path, data, "ignoring malformed data in {} (expected {} JSON): {}", type, "not an object");
                return Decoded.malformed();
            }
            Optional<SchemaVersion> schema = SchemaVersion.of(tree);
            if (schema.isEmpty()) {
                warnOnce(
                        path,
                        data,
                        "ignoring malformed data in {} (expected {} JSON): {}",
                        type,
                        "invalid " + SchemaVersion.FIELD + " " + tree.get(SchemaVersion.FIELD));
                return Decoded.malformed();
            }
            if (schema.get().refusedBy(SchemaVersion.CURRENT)) {
                warnOnce(
                        path,
                        data,
                        "not acting on {}: a {} of schema " + schema.get() + ", written by a newer asfc; this agent"
                                + " reads up to schema " + SchemaVersion.CURRENT.major() + ".x{}",
                        type,
                        " (docs/UPGRADE.md)");
                return Decoded.newer(schema.get());
            }
            return Decoded.read(MAPPER.treeToValue(tree, type), schema.get());
        } catch (IOException | IllegalArgumentException e) {
            warnOnce(path, data, "ignoring malformed data in {} (expected {} JSON): {}", type, reason(e));
            return Decoded.malformed();
        }
    }

    private static void warnOnce(String path, byte[] data, String format, Class<?> type, String reason) {
        if (WARNED.size() > MAX_WARNED) {
            WARNED.clear();
        }
        String key = path + "#" + Arrays.hashCode(data);
        if (WARNED.add(key)) {
            LOG.warn(format, path, type.getSimpleName(), reason);
        } else {
            LOG.debug(format, path, type.getSimpleName(), reason);
        }
    }

    private static String reason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
