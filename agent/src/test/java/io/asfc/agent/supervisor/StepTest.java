package io.asfc.agent.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StepTest {
    @ParameterizedTest(name = "paused {0}, malformed {1}, mine {2}, running {3} -> {4}")
    @CsvSource({
        "true,  false, true,  false, HOLD",
        "true,  false, false, true,  HOLD",
        "false, true,  false, true,  HOLD",
        "false, true,  true,  false, HOLD",
        "false, false, false, true,  STOP",
        "false, false, true,  false, START",
        "false, false, true,  true,  KEEP",
        "false, false, false, false, NONE"
    })
    void decidesFromTheFreshReadAlone(boolean paused, boolean malformed, boolean mine, boolean running, Step step) {
        assertEquals(step, Step.decide(paused, malformed, mine, running));
    }
}
