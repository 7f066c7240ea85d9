package io.asfc.common.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.common.ssh.SshException.Reason;
import io.asfc.common.ssh.SshPhases.Phase;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The verdicts of {@link SshPhases}, as a table: no network. */
class SshPhasesTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    private static Map<Phase, Duration> ms(long... millis) {
        Map<Phase, Duration> took = new LinkedHashMap<>();
        for (int i = 0; i < millis.length; i++) {
            took.put(Phase.values()[i], Duration.ofMillis(millis[i]));
        }
        return took;
    }

    @Test
    void aQuickCallIsOkAndItsSlowestPhaseIsNamed() {
        SshPhases p = new SshPhases(ms(2, 300, 40, 1), null, null);

        assertEquals("ok", p.verdict(BOUND));
        assertEquals(Phase.AUTHENTICATE, p.slowest());
        assertFalse(p.slowShell(BOUND));
        assertEquals("connect=2ms authenticate=300ms remote-shell-start=40ms command=1ms", p.summary());
    }

    @Test
    void aShellStartOfHalfTheCommandTimeoutIsSlowEvenWhenTheCallSucceeds() {
        SshPhases p = new SshPhases(ms(2, 300, 5000, 1), null, null);

        assertTrue(p.slowShell(BOUND));
        assertTrue(p.verdict(BOUND).startsWith("ok, but the remote shell start took 5000ms"), p.verdict(BOUND));
        assertTrue(p.verdict(BOUND).contains("login took 302ms"), p.verdict(BOUND));
    }

    @Test
    void aTimeoutInTheShellStartIsASlowShellNotAnUnreachableHost() {
        SshPhases p = new SshPhases(
                ms(2, 300, 10_000), Phase.SHELL_START, new SshException(Reason.TIMED_OUT, "timed out after 10s"));

        assertTrue(p.slowShell(BOUND));
        assertTrue(p.verdict(BOUND).startsWith("the remote shell start timed out after 10000ms"), p.verdict(BOUND));
        assertTrue(p.summary().endsWith("remote-shell-start=10000ms(failed)"), p.summary());
    }

    @Test
    void otherFailuresNameTheirPhase() {
        SshPhases refused = new SshPhases(
                ms(1), Phase.CONNECT, new SshException(Reason.CONNECTION_REFUSED, "connection refused by h:22"));
        SshPhases auth = new SshPhases(
                ms(1, 20), Phase.AUTHENTICATE, new SshException(Reason.AUTH_FAILED, "authentication failed"));

        assertEquals("connect failed: connection refused by h:22", refused.verdict(BOUND));
        assertEquals("authenticate failed: authentication failed", auth.verdict(BOUND));
        assertFalse(auth.slowShell(BOUND));
    }
}
