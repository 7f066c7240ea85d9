package io.asfc.common.zk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code schemaVersion} every record carries, {@code "MAJOR.MINOR"} (docs/UPGRADE.md). A newer
 * minor only adds fields, which older readers ignore; a newer major may change what a field means,
 * so an older agent refuses to act on it (and to become ACTIVE). A record without the field is of
 * the unversioned format asfc wrote before it had one, read as {@link #UNVERSIONED} (1.0).
 */
public record SchemaVersion(int major, int minor) {
    public static final String FIELD = "schemaVersion";

    /** The format of the records written before the field existed (up to commit 1fee3e2). */
    public static final SchemaVersion UNVERSIONED = new SchemaVersion(1, 0);

    /** What this version writes; it reads every 1.x and 2.x record. */
    public static final SchemaVersion CURRENT = new SchemaVersion(2, 0);

    private static final Pattern TEXT = Pattern.compile("([1-9][0-9]{0,5})(?:\\.([0-9]{1,6}))?");

    public SchemaVersion {
        if (major < 1 || minor < 0) {
            throw new IllegalArgumentException("no schema version " + major + "." + minor);
        }
    }

    /**
     * The version of the record {@code root}: {@link #UNVERSIONED} without the field, empty when the
     * field is neither {@code "MAJOR.MINOR"}, {@code "MAJOR"} nor a whole number.
     */
    public static Optional<SchemaVersion> of(JsonNode root) {
        JsonNode field = root.get(FIELD);
        if (field == null) {
            return Optional.of(UNVERSIONED);
        }
        if (field.isInt() && field.intValue() >= 1) {
            return Optional.of(new SchemaVersion(field.intValue(), 0));
        }
        if (!field.isTextual()) {
            return Optional.empty();
        }
        Matcher m = TEXT.matcher(field.textValue());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(
                new SchemaVersion(Integer.parseInt(m.group(1)), m.group(2) == null ? 0 : Integer.parseInt(m.group(2))));
    }

    /** True when a reader of version {@code reader} must not act on a record of this version. */
    public boolean refusedBy(SchemaVersion reader) {
        return major > reader.major;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
