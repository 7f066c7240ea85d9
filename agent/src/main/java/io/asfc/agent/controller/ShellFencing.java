package io.asfc.agent.controller;

import io.asfc.agent.election.Lease;
import io.asfc.common.concurrent.Threads;
import io.asfc.common.process.ConfiguredCommand;
import io.asfc.common.process.TreeStopper;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shell:<command>}: runs a command from the local config (never from znode data: S5) with
 * {@code setsid /bin/sh -c} on this, the ACTIVE agent's, host. What it fences is in its environment,
 * never in its arguments: {@code ASFC_NODE}, {@code ASFC_HOST}, {@code ASFC_CLUSTER},
 * {@code ASFC_GENERATION} (the unassignment's {@code mzxid}) and {@code ASFC_EPOCH}. Exit 0 confirms;
 * any other exit, a command that cannot start, or one that runs past {@code fencing-timeout} (its
 * session and process tree are then killed) confirms nothing. It runs only after a fenced
 * transaction proved this leadership, so a deposed leader never powers off a host.
 */
final class ShellFencing implements FencingMethod {
    private static final Logger LOG = LoggerFactory.getLogger(ShellFencing.class);
    /** How long a timed-out command's processes get between SIGTERM and SIGKILL. */
    private static final Duration KILL_GRACE = Duration.ofSeconds(1);

    /** Proves, in a fenced transaction, that {@code lease} still holds; throws when it does not. */
    @FunctionalInterface
    interface LeaseProof {
        void prove(Lease lease) throws Exception;
    }

    private final String name;
    private final String command;
    private final FencingSite site;
    private final LeaseProof proof;
    private final TreeStopper stopper;

    /** @param name how logs and events name it ({@link io.asfc.common.config.FencingEntry#label}) */
    ShellFencing(String name, String command, FencingSite site, LeaseProof proof, TreeStopper stopper) {
        this.name = name;
        this.command = command;
        this.site = site;
        this.proof = proof;
        this.stopper = stopper;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome fence(Lease lease, String node, long generation) {
        try {
            proof.prove(lease);
        } catch (Exception e) {
            Threads.checkInterrupted(e);
            return new Outcome(false, "not run: cannot prove leadership: " + e.getMessage());
        }
        Process process;
        try {
            process = ConfiguredCommand.start(
                    command,
                    Map.of(
                            "ASFC_NODE", node,
                            "ASFC_HOST", site.hostOf().apply(node),
                            "ASFC_CLUSTER", site.cluster(),
                            "ASFC_GENERATION", Long.toString(generation),
                            "ASFC_EPOCH", Long.toString(lease.epoch())),
                    site.outputDir().resolve("fencing-" + node + ".out"));
        } catch (IOException e) {
            return new Outcome(false, "could not run: " + e.getMessage());
        }
        LOG.info("fencing {} with {} (pid {})", node, name, process.pid());
        try {
            if (!process.waitFor(site.timeout().toNanos(), TimeUnit.NANOSECONDS)) {
                killSession(process);
                return new Outcome(
                        false, "timed out after " + site.timeout().toMillis() + "ms; its process tree was killed");
            }
        } catch (InterruptedException e) {
            killSession(process);
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted; its process tree was killed");
        }
        int exit = process.exitValue();
        return new Outcome(exit == 0, "exit " + exit);
    }

    /**
     * Stops what the command left running: its session (setsid made it the leader, so its
     * daemonized children keep its sid) and its tree.
     */
    private void killSession(Process process) {
        try {
            TreeStopper.Result result = ConfiguredCommand.stop(process, stopper, KILL_GRACE);
            if (!result.stopped()) {
                LOG.error("fencing command {} survived SIGKILL: {}", name, result.survivors());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
