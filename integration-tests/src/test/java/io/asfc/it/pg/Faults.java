package io.asfc.it.pg;

import io.asfc.it.CommandResult;
import io.asfc.it.pg.Observer.Main;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The fault injectors. Each returns the instant (System.nanoTime()) the fault began, the reference for recovery
 * times. A fault that is held for a while (a SIGSTOP, lost quorum) sleeps for that long: that is the fault, not a
 * wait for a condition.
 */
final class Faults {

    /** How a host is cut off by iptables rules in its own network namespace. */
    enum Partition {
        /** Nothing passes between the host and any ZooKeeper server. */
        ZOOKEEPER,
        /** No SSH connection reaches the host's sshd; everything else passes. */
        SSH,
        /** The host hears nothing from ZooKeeper, but its own packets still reach the servers. */
        ONE_WAY_FROM_ZOOKEEPER,
        /** Cut off from ZooKeeper and unreachable over SSH: only its own self-fencing stops its scheduler (S4). */
        ZOOKEEPER_AND_SSH
    }

    private final ProvingGround pg;

    Faults(ProvingGround pg) {
        this.pg = pg;
    }

    /** kill -9 of the scheduler's main process on {@code node}'s host. */
    long killScheduler(String node) {
        Main main = pg.observer().latest().orElseThrow().mains().stream()
                .filter(m -> m.host().equals(node))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no scheduler runs on " + node));
        long at = System.nanoTime();
        Sh.kill("KILL", main.id().pid());
        return at;
    }

    /** kill -9 of {@code node}'s agent. */
    long killAgent(String node) throws IOException {
        long pid = agentPid(node);
        long at = System.nanoTime();
        Sh.kill("KILL", pid);
        return at;
    }

    /** {@code bin/asfc-agent stop} (SIGTERM) on {@code node}; returns when the command was issued. */
    long stopAgent(String node) throws IOException, InterruptedException {
        long at = System.nanoTime();
        CommandResult stop = pg.agent(node).stop();
        if (stop.exitCode() != 0) {
            throw new IllegalStateException("stop of " + node + " failed: " + stop.describe());
        }
        return at;
    }

    /** {@code bin/asfc-agent restart --hand-over} of {@code node}'s agent, which must succeed; returns when it began. */
    long handOverAgent(String node) throws IOException, InterruptedException {
        long at = System.nanoTime();
        CommandResult restart = pg.agent(node).run(HostAgent.DAEMON_TIMEOUT, "restart", "--hand-over");
        if (restart.exitCode() != 0) {
            throw new IllegalStateException("restart --hand-over of " + node + " failed: " + restart.describe());
        }
        return at;
    }

    /** SIGSTOP of {@code node}'s agent, until {@link #thawAgent}; returns its pid. */
    long freezeAgent(String node) throws IOException {
        long pid = agentPid(node);
        Sh.kill("STOP", pid);
        return pid;
    }

    /** SIGCONT of an agent frozen by {@link #freezeAgent(String)}. */
    void thawAgent(long pid) throws IOException {
        Sh.kill("CONT", pid);
    }

    /** SIGSTOP of {@code node}'s agent, held for {@code hold}, then SIGCONT. */
    long freezeAgent(String node, Duration hold) throws IOException, InterruptedException {
        long pid = agentPid(node);
        long at = System.nanoTime();
        Sh.kill("STOP", pid);
        try {
            Thread.sleep(hold.toMillis());
        } finally {
            Sh.kill("CONT", pid);
        }
        return at;
    }

    /** Host crash: everything in {@code node}'s PID namespace is killed and its link goes down. */
    long crashHost(String node) throws InterruptedException {
        long at = System.nanoTime();
        pg.host(node).crash();
        return at;
    }

    /**
     * Kills {@code node}'s sshd, the listener and its sessions: from then on every SSH connection to the host is
     * refused or cut, while what already runs there (its scheduler) runs on. Until {@link #startSshd}.
     */
    long stopSshd(String node) throws IOException {
        return pg.host(node).stopSshd();
    }

    /** Starts {@code node}'s sshd again; returns when it listens (System.nanoTime()). */
    long startSshd(String node) throws IOException {
        pg.host(node).startSshd();
        return System.nanoTime();
    }

    /** Cuts {@code node}'s host off as {@code kind} says, until {@link #heal}. */
    long partition(String node, Partition kind) {
        Host host = pg.host(node);
        long at = System.nanoTime();
        switch (kind) {
            case ZOOKEEPER -> zkAddresses().forEach(zk -> {
                host.iptables("-A", "INPUT", "-s", zk, "-j", "DROP");
                host.iptables("-A", "OUTPUT", "-d", zk, "-j", "DROP");
            });
            case ZOOKEEPER_AND_SSH -> {
                partition(node, Partition.ZOOKEEPER);
                partition(node, Partition.SSH);
            }
            case SSH -> host.iptables("-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP");
            case ONE_WAY_FROM_ZOOKEEPER -> zkAddresses()
                    .forEach(zk -> host.iptables("-A", "INPUT", "-s", zk, "-j", "DROP"));
        }
        return at;
    }

    /** Removes every partition rule of {@code node}'s host. */
    long heal(String node) {
        long at = System.nanoTime();
        pg.host(node).flushIptables();
        return at;
    }

    /** kill -9 of the ZooKeeper leader; returns the server killed. */
    ZkEnsemble.Server killZkLeader() throws InterruptedException {
        ZkEnsemble.Server leader = pg.zk().leader().orElseThrow(() -> new IllegalStateException("no ZooKeeper leader"));
        pg.zk().kill(leader);
        return leader;
    }

    /** kill -9 of one ZooKeeper follower (a minority); returns the server killed. */
    ZkEnsemble.Server killZkFollower() throws InterruptedException {
        ZkEnsemble.Server leader = pg.zk().leader().orElseThrow(() -> new IllegalStateException("no ZooKeeper leader"));
        ZkEnsemble.Server follower = pg.zk().servers().stream()
                .filter(s -> s != leader && s.isRunning())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no ZooKeeper follower runs"));
        pg.zk().kill(follower);
        return follower;
    }

    /**
     * Quorum lost: kill -9 of the leader and one follower, held for {@code hold}, then both restarted. Returns when
     * the ensemble served again (System.nanoTime()).
     */
    long loseQuorum(Duration hold) throws IOException, InterruptedException {
        ZkEnsemble.Server leader = killZkLeader();
        ZkEnsemble.Server follower = pg.zk().servers().stream()
                .filter(ZkEnsemble.Server::isRunning)
                .findFirst()
                .orElseThrow();
        pg.zk().kill(follower);
        Thread.sleep(hold.toMillis());
        pg.zk().start(leader);
        pg.zk().start(follower);
        pg.zk().awaitQuorum(Duration.ofSeconds(60));
        return System.nanoTime();
    }

    /** {@code bin/asfc-agent failover --to target}, run on {@code via}'s host; returns when it was issued. */
    long failover(String via, String target) throws IOException, InterruptedException {
        long at = System.nanoTime();
        CommandResult result = pg.agent(via).cli("failover", "--to", target, "--timeout", "30");
        if (result.exitCode() != 0) {
            throw new IllegalStateException("failover --to " + target + " failed: " + result.describe());
        }
        return at;
    }

    private long agentPid(String node) throws IOException {
        return pg.agent(node).pid().orElseThrow(() -> new IllegalStateException("agent " + node + " does not run"));
    }

    private List<String> zkAddresses() {
        return pg.zkHosts().stream().map(Host::address).toList();
    }
}
