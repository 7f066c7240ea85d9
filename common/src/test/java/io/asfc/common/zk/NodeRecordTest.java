package io.asfc.common.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@code nodes/<node>} as older leaders wrote it, and with the backoff and cordon fields. */
class NodeRecordTest {
    private static final Instant AT = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void anOlderQuarantineWithoutItsBackoffFieldsEndsOneBackoffAfterItWasWritten() {
        String older = "{\"node\":\"a\",\"quarantined\":true,\"failures\":3,\"reason\":\"failed 3 times in a row\","
                + "\"at\":\"2026-12-07T12:00:00Z\",\"addedByANewerVersion\":1}";

        NodeRecord r = decode(older);

        assertTrue(r.quarantined());
        assertNull(r.until());
        assertFalse(r.hasCordon());
        assertFalse(r.onTrial());
        assertEquals(1, r.quarantines());
        assertEquals(AT.plusSeconds(30), r.endsAt(Duration.ofSeconds(30)));
    }

    @Test
    void aQuarantineLiftAndCordonSurviveTheRoundTrip() {
        NodeRecord quarantined = NodeRecord.cordon("a", "alice@ops", AT)
                .quarantine(3, "failed 3 times in a row", AT, Duration.ofSeconds(20), 2);
        NodeRecord lifted = quarantined.lift(AT.plusSeconds(20), 3);

        NodeRecord read = decode(new String(Json.encode(lifted), StandardCharsets.UTF_8));

        assertEquals(lifted, read);
        assertTrue(read.onTrial());
        assertTrue(read.hasCordon());
        assertEquals(2, read.quarantines());
        assertEquals(AT.plusSeconds(20), read.until());
        assertEquals(NodeRecord.cordon("a", "alice@ops", AT), read.withoutFailures());
        assertNull(read.withoutFailures().withoutCordon(), "nothing left: the znode goes");
    }

    private static NodeRecord decode(String json) {
        return Json.decode("/nodes/a", json.getBytes(StandardCharsets.UTF_8), NodeRecord.class)
                .orElseThrow();
    }
}
