package io.asfc.agent.controller;

import io.asfc.agent.election.Lease;

/** {@code ssh}: the controller's SSH look-and-stop ({@link SshOps#hostStop}), proved under the lease. */
final class SshFencing implements FencingMethod {
    private final SshOps sshOps;

    SshFencing(SshOps sshOps) {
        this.sshOps = sshOps;
    }

    @Override
    public String name() {
        return "ssh";
    }

    @Override
    public Outcome fence(Lease lease, String node, long generation) {
        SshOps.HostStopped stopped = sshOps.hostStop(lease, node);
        return new Outcome(stopped.ok(), stopped.describe());
    }
}
