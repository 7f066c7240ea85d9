package io.asfc.agent.supervisor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's end of the pipe to an on-host deadman (the child-mode {@link Watchdog} or the
 * command-mode deadman): an empty line renews it, {@code stop} starts its own kill clock, and the
 * end closing (by {@link #close} or by the agent's death, even SIGKILL) tells it the agent is gone.
 * A write to a deadman that is gone fails quietly: its scheduler is gone with it.
 */
public final class Lifeline {
    private static final Logger LOG = LoggerFactory.getLogger(Lifeline.class);

    /** No deadman: renewals and stops go nowhere. */
    public static final Lifeline NONE = new Lifeline(OutputStream.nullOutputStream());

    private final OutputStream out;

    public Lifeline(OutputStream out) {
        this.out = out;
    }

    /** Renews the deadman. */
    public void renew() {
        write("\n");
    }

    /** The agent self-fences: the deadman stops the scheduler now too, with its own kill clock. */
    public void stop() {
        write("stop\n");
    }

    /** Another line of the deadman's protocol (the command-mode deadman's {@code arm}, {@code disarm}). */
    public void send(String line) {
        write(line + "\n");
    }

    /** The deadman stops the scheduler: the agent no longer holds it. */
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            // the deadman is gone already: nothing holds the other end
        }
    }

    private void write(String line) {
        try {
            synchronized (out) {
                out.write(line.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            LOG.debug("could not write to the deadman (it is gone)", e);
        }
    }
}
