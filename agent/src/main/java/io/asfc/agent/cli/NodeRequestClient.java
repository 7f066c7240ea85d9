package io.asfc.agent.cli;

import io.asfc.agent.cluster.ControlWriter;
import io.asfc.agent.cluster.Znode;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.net.Hostnames;
import io.asfc.common.zk.ControlRecord;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Files an operator's request about a node ({@code cordon}, {@code uncordon}, {@code drain}, {@code
 * unquarantine}, {@code reset-failures}) in {@code control} and waits for the ACTIVE controller's
 * answer. The controller owns the {@code nodes/<node>} records, so it writes them, in the same
 * fenced transaction as its answer. A request no controller takes within its time to live is
 * withdrawn and never acted on later, as with {@code failover}.
 */
final class NodeRequestClient {
    private static final long POLL_MS = 200;

    private NodeRequestClient() {}

    /** Who files requests from this process: {@code user@host}. */
    static String who() {
        return System.getProperty("user.name", "unknown") + "@" + Hostnames.local();
    }

    /** 2 x poll-interval, at least 10 s: as {@code failover}'s default time to live. */
    static Duration ttl(AsfcSettings settings) {
        Duration twice = settings.controller().pollInterval().multipliedBy(2);
        return twice.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : twice;
    }

    /** Exit 1 with a message when {@code node} is not in {@code asfc.nodes} (when that is set). */
    static void checkKnown(AsfcSettings settings, String node) {
        if (!settings.nodes().isEmpty() && !settings.nodes().contains(node)) {
            throw new CliFailure("unknown node '" + node + "': asfc.nodes is " + settings.nodes());
        }
    }

    /**
     * Files the request and returns the controller's answer: final ("done: ...") or, for a drain
     * that moves the scheduler, the "accepted: ..." of the move's first phase.
     *
     * @throws CliFailure when it was refused, expired or withdrawn, or no answer came in time
     */
    static String fileAndAwait(ZkConnection zk, String op, String node, Duration ttl, PrintWriter out)
            throws InterruptedException {
        String id = UUID.randomUUID().toString();
        String by = who();
        ControlWriter.update(zk.client(), zk.paths(), c -> {
            if (c.pending() && !expired(c)) {
                throw new CliFailure("another request is waiting for the ACTIVE controller ("
                        + (c.op() != null ? c.op() + (c.opNode() == null ? "" : " " + c.opNode()) : "failover")
                        + ", id " + c.requestId() + "); try again once it is answered (see 'asfc-agent metadata')");
            }
            return c.withNodeRequest(op, node, id, Clock.systemUTC().instant(), ttl, by);
        });
        out.println("requested " + op + (node == null ? "" : " " + node) + " (id " + id + ", by " + by + ")");
        long expires = System.nanoTime() + ttl.toNanos();
        long deadline = expires + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() - deadline < 0) {
            Znode<ControlRecord> control = Znode.read(zk.client(), zk.paths().control(), ControlRecord.class);
            if (!control.present() || !id.equals(control.value().requestId())) {
                throw new CliFailure("the request was replaced by another one before a controller answered it;"
                        + " see 'asfc-agent metadata'");
            }
            ControlRecord c = control.value();
            if (c.result() != null) {
                String result = c.result();
                if (result.startsWith("refused") || result.startsWith("expired") || result.startsWith("withdrawn")) {
                    throw new CliFailure("the ACTIVE controller " + result);
                }
                return result;
            }
            if (System.nanoTime() - expires > 0) {
                withdraw(zk, id, ttl);
                continue; // a controller took it meanwhile: read its answer
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
        throw new CliFailure("no answer from the ACTIVE controller; see 'asfc-agent events' and 'asfc-agent metadata'");
    }

    private static boolean expired(ControlRecord c) {
        return c.ttlMillis() != null
                && c.requestedAt() != null
                && Clock.systemUTC().millis() > c.requestedAt().toEpochMilli() + c.ttlMillis();
    }

    /** Withdraws the request unless a controller answered it meanwhile (both change the znode's version). */
    private static void withdraw(ZkConnection zk, String id, Duration ttl) {
        String text = "withdrawn: no ACTIVE controller took it within " + ttl.toSeconds() + "s";
        ControlRecord after = ControlWriter.update(
                zk.client(),
                zk.paths(),
                c -> id.equals(c.requestId()) && c.result() == null
                        ? c.withResult(text, Clock.systemUTC().instant())
                        : c);
        if (id.equals(after.requestId()) && text.equals(after.result())) {
            throw new CliFailure("no ACTIVE controller took the request within " + ttl.toSeconds()
                    + "s; withdrawn, it will not run (see 'asfc-agent metadata': is a controller ACTIVE?)");
        }
    }
}
