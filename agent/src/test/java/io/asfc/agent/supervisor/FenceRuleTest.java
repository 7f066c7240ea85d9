package io.asfc.agent.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.curator.framework.state.ConnectionState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** S4's decisions as tables: what each connection state asks of the self-fence, and when a due one stops. */
class FenceRuleTest {
    @ParameterizedTest(name = "{0}, timer armed {1} -> {2}")
    @CsvSource({
        "SUSPENDED,   false, ARM",
        // a second SUSPENDED must not restart the clock: self-fence-after counts from the first
        "SUSPENDED,   true,  KEEP_ARMED",
        "LOST,        false, FENCE_NOW",
        "LOST,        true,  FENCE_NOW",
        "CONNECTED,   false, DISARM",
        "RECONNECTED, true,  DISARM",
        "RECONNECTED, false, DISARM",
        "READ_ONLY,   false, NOTHING",
        "READ_ONLY,   true,  NOTHING"
    })
    void eachConnectionState(ConnectionState state, boolean armed, FenceRule.OnState expected) {
        assertEquals(expected, FenceRule.onState(state, armed));
    }

    @ParameterizedTest(name = "suspended {0}, open {1}, connected {2} -> {3}")
    @CsvSource({
        "true,  true,  false, FENCE",
        // the timer raced a RECONNECTED still on its way to the listener: the session lives
        "true,  true,  true,  RECONNECTED_JUST_NOW",
        "false, true,  false, STAND_DOWN",
        "false, true,  true,  STAND_DOWN",
        "true,  false, false, STAND_DOWN",
        "false, false, false, STAND_DOWN"
    })
    void aDueSelfFenceStopsOnlyWhileStillCutOff(
            boolean suspended, boolean open, boolean connected, FenceRule.Verdict expected) {
        assertEquals(expected, FenceRule.due(suspended, open, connected));
    }

    @Test
    void aStopCountsWhenItEndedAnyProcess() {
        assertFalse(FenceRule.stoppedAny(0, 0), "nothing was running: no self-fenced event");
        assertTrue(FenceRule.stoppedAny(1, 0));
        assertTrue(FenceRule.stoppedAny(0, 1));
        assertTrue(FenceRule.stoppedAny(2, 1));
    }
}
