package io.asfc.agent.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asfc.agent.election.Lease;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Fencing}: the methods in order until one confirms; a method that throws confirms nothing. */
class FencingChainTest {
    private static final Lease LEASE = new Lease("a", 7, "/latch/n-1");

    private final List<String> tried = new ArrayList<>();

    private FencingMethod method(String name, Boolean confirms) {
        return new FencingMethod() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Outcome fence(Lease lease, String node, long generation) {
                tried.add(name + "(" + node + "@" + generation + ")");
                if (confirms == null) {
                    throw new IllegalStateException("boom");
                }
                return new Outcome(confirms, confirms ? "stopped" : "refused");
            }
        };
    }

    @Test
    void triedInOrderUntilOneConfirms() {
        Fencing fencing = new Fencing(List.of(method("ssh", false), method("ipmi", true), method("pdu", true)));

        FencingMethod.Outcome outcome = fencing.fence(LEASE, "c", 42);

        assertTrue(outcome.confirmed());
        assertEquals("ipmi: stopped", outcome.detail());
        assertEquals(List.of("ssh(c@42)", "ipmi(c@42)"), tried);
    }

    @Test
    void noneConfirmingReportsEachAndAThrowingMethodIsNotConfirmation() {
        Fencing fencing = new Fencing(List.of(method("ssh", false), method("ipmi", null)));

        FencingMethod.Outcome outcome = fencing.fence(LEASE, "c", 42);

        assertFalse(outcome.confirmed());
        assertEquals("ssh: refused; ipmi: failed: boom", outcome.detail());
    }

    @Test
    void anInterruptedChainStopsAtOnce() {
        FencingMethod interrupted = new FencingMethod() {
            @Override
            public String name() {
                return "ipmi";
            }

            @Override
            public Outcome fence(Lease lease, String node, long generation) {
                Thread.currentThread().interrupt(); // the controller is closing
                return new Outcome(false, "interrupted");
            }
        };
        Fencing fencing = new Fencing(List.of(interrupted, method("pdu", true)));

        FencingMethod.Outcome outcome = fencing.fence(LEASE, "c", 42);

        assertTrue(Thread.interrupted(), "the interrupt is kept");
        assertFalse(outcome.confirmed());
        assertEquals("ipmi: interrupted", outcome.detail());
        assertEquals(List.of(), tried, "pdu is not tried");
    }

    @Test
    void withoutMethodsNothingIsAvailableOrConfirmed() {
        Fencing none = new Fencing(List.of());

        assertFalse(none.available());
        assertEquals(new FencingMethod.Outcome(false, "no fencing method is configured"), none.fence(LEASE, "c", 1));
        assertTrue(new Fencing(List.of(method("ssh", true))).available());
    }
}
