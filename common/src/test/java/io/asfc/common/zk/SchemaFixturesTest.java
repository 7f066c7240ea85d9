package io.asfc.common.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The records of the previous released format (schema 1, captured from 1fee3e2), of a hypothetical
 * newer minor (2.1: fields this version does not know) and of a newer major (3.0), read by this
 * version's readers (docs/UPGRADE.md).
 */
class SchemaFixturesTest {

    /** Every fixture and the record it holds. */
    private static final Map<String, Class<?>> FIXTURES = Map.ofEntries(
            Map.entry("active.json", ActiveRecord.class),
            Map.entry("epoch.json", EpochRecord.class),
            Map.entry("scheduler.json", Assignment.class),
            Map.entry("scheduler-moving.json", Assignment.class),
            Map.entry("control-answered.json", ControlRecord.class),
            Map.entry("control-failover-pending.json", ControlRecord.class),
            Map.entry("agent-active.json", AgentRecord.class),
            Map.entry("agent-standby.json", AgentRecord.class),
            Map.entry("node-cordoned.json", NodeRecord.class),
            Map.entry("node-quarantined.json", NodeRecord.class),
            Map.entry("event.json", EventRecord.class));

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"schema-1", "schema-2.1"})
    void everyRecordOfThePreviousVersionAndOfANewerMinorIsRead(String version) {
        SchemaVersion expected = version.equals("schema-1") ? SchemaVersion.UNVERSIONED : new SchemaVersion(2, 1);
        FIXTURES.forEach((name, type) -> {
            Decoded<?> read = read(version, name, type);
            assertEquals(Decoded.Outcome.READ, read.outcome(), () -> version + "/" + name);
            assertEquals(expected, read.schema(), () -> version + "/" + name);
            assertNotNull(read.value(), () -> version + "/" + name);
        });
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"schema-1", "schema-2.1"})
    void theFieldsThatMatterKeepTheirMeaning(String version) {
        Assignment assigned = read(version, "scheduler.json", Assignment.class).value();
        assertEquals("a", assigned.node());
        assertEquals(1, assigned.epoch());
        assertFalse(assigned.isMoving());

        Assignment moving =
                read(version, "scheduler-moving.json", Assignment.class).value();
        assertTrue(moving.isMoving());
        assertEquals("a", moving.movingFrom());
        assertEquals("b", moving.movingTo());
        assertEquals(3, moving.epoch());

        AgentRecord active =
                read(version, "agent-active.json", AgentRecord.class).value();
        assertEquals(AgentRecord.Role.ACTIVE, active.role());
        assertTrue(active.scheduler().running());
        assertEquals(30L, active.scheduler().observed());
        AgentRecord standby =
                read(version, "agent-standby.json", AgentRecord.class).value();
        assertTrue(standby.scheduler().provesStoppedSince(30));

        assertTrue(read(version, "control-failover-pending.json", ControlRecord.class)
                .value()
                .pending());
        ControlRecord answered =
                read(version, "control-answered.json", ControlRecord.class).value();
        assertTrue(answered.answered());
        assertEquals(ControlRecord.CORDON, answered.op());

        assertTrue(read(version, "node-cordoned.json", NodeRecord.class).value().hasCordon());
        NodeRecord quarantined =
                read(version, "node-quarantined.json", NodeRecord.class).value();
        assertTrue(quarantined.quarantined());
        assertEquals(Instant.parse("2026-12-07T12:00:30Z"), quarantined.until());

        assertEquals(1, read(version, "active.json", ActiveRecord.class).value().epoch());
        assertEquals(
                "agent-started",
                read(version, "event.json", EventRecord.class).value().type());
    }

    @Test
    void everyRecordOfANewerMajorIsRefusedNotReadAndNotTakenForGarbage() {
        FIXTURES.forEach((name, type) -> {
            Decoded<?> read = read("schema-3.0", name, type);
            assertEquals(Decoded.Outcome.NEWER, read.outcome(), name);
            assertEquals(new SchemaVersion(3, 0), read.schema(), name);
            assertNull(read.value(), name);
            assertTrue(Json.decode(name, bytes("schema-3.0", name), type).isEmpty(), name);
        });
    }

    private static <T> Decoded<T> read(String version, String name, Class<T> type) {
        return Json.read(version + "/" + name, bytes(version, name), type);
    }

    private static byte[] bytes(String version, String name) {
        String resource = "/fixtures/" + version + "/" + name;
        try (InputStream in = SchemaFixturesTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "no fixture " + resource);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
