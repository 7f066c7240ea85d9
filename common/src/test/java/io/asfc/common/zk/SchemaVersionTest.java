package io.asfc.common.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code schemaVersion}: what every record carries, and how a reader judges it. */
class SchemaVersionTest {
    private static final Instant AT = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void aRecordWithoutTheFieldIsOfThePreviousUnversionedFormat() {
        assertEquals(Optional.of(SchemaVersion.UNVERSIONED), SchemaVersion.of(tree("{\"node\":\"a\"}")));
        assertEquals(new SchemaVersion(1, 0), SchemaVersion.UNVERSIONED);
    }

    @Test
    void theFieldIsMajorDotMinorOrABareMajor() {
        assertEquals(Optional.of(new SchemaVersion(2, 0)), SchemaVersion.of(tree("{\"schemaVersion\":\"2.0\"}")));
        assertEquals(Optional.of(new SchemaVersion(2, 7)), SchemaVersion.of(tree("{\"schemaVersion\":\"2.7\"}")));
        assertEquals(Optional.of(new SchemaVersion(3, 0)), SchemaVersion.of(tree("{\"schemaVersion\":\"3\"}")));
        assertEquals(Optional.of(new SchemaVersion(3, 0)), SchemaVersion.of(tree("{\"schemaVersion\":3}")));
        assertEquals("2.7", new SchemaVersion(2, 7).toString());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"\"x\"", "\"2.x\"", "\"0.9\"", "\"-1.0\"", "\"2.0.1\"", "\"\"", "true", "2.5", "null", "{}"})
    void anyOtherValueIsMalformed(String value) {
        assertEquals(Optional.empty(), SchemaVersion.of(tree("{\"schemaVersion\":" + value + "}")));
        Decoded<EventRecord> read = Json.read(
                "events/event-1",
                ("{\"schemaVersion\":" + value + ",\"at\":\"2026-12-07T12:00:00Z\",\"node\":\"a\",\"type\":\"t\"}")
                        .getBytes(StandardCharsets.UTF_8),
                EventRecord.class);
        assertEquals(Decoded.Outcome.MALFORMED, read.outcome());
        assertNull(read.value());
    }

    @Test
    void onlyANewerMajorIsRefused() {
        SchemaVersion current = SchemaVersion.CURRENT;
        assertFalse(current.refusedBy(current));
        assertFalse(new SchemaVersion(current.major(), current.minor() + 5).refusedBy(current));
        assertFalse(SchemaVersion.UNVERSIONED.refusedBy(current));
        assertTrue(new SchemaVersion(current.major() + 1, 0).refusedBy(current));
    }

    @Test
    void everyRecordIsWrittenWithTheCurrentVersionFirst() {
        JsonNode written = tree(new String(Json.encode(Assignment.to("a", 4, AT, "initial")), StandardCharsets.UTF_8));

        Iterator<String> fields = written.fieldNames();
        assertEquals(SchemaVersion.FIELD, fields.next());
        assertEquals(
                SchemaVersion.CURRENT.toString(),
                written.get(SchemaVersion.FIELD).asText());
        assertEquals("2.0", SchemaVersion.CURRENT.toString());
        assertEquals("a", written.get("node").asText());
    }

    @Test
    void whatThisVersionWritesItReadsBack() {
        Assignment moving = Assignment.moving("a", "b", "r-1", 4, AT, "failover");

        Decoded<Assignment> read = Json.read("scheduler", Json.encode(moving), Assignment.class);

        assertEquals(Decoded.Outcome.READ, read.outcome());
        assertEquals(SchemaVersion.CURRENT, read.schema());
        assertEquals(moving, read.value());
        assertEquals(Optional.of(moving), Json.decode("scheduler", Json.encode(moving), Assignment.class));
    }

    @Test
    void garbageStaysGarbage() {
        Decoded<Assignment> read =
                Json.read("scheduler", "garbage{ not json".getBytes(StandardCharsets.UTF_8), Assignment.class);
        assertEquals(Decoded.Outcome.MALFORMED, read.outcome());
        assertNull(read.schema());
        assertEquals(
                Decoded.Outcome.MALFORMED,
                Json.read("scheduler", new byte[0], Assignment.class).outcome());
        assertEquals(
                Decoded.Outcome.MALFORMED,
                Json.read("scheduler", null, Assignment.class).outcome());
        assertEquals(
                Decoded.Outcome.MALFORMED,
                Json.read("scheduler", "[1,2]".getBytes(StandardCharsets.UTF_8), Assignment.class)
                        .outcome());
    }

    private static JsonNode tree(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
