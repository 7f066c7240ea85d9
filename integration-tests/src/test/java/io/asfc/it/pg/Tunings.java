package io.asfc.it.pg;

import java.time.Duration;

/**
 * The configuration every agent of the proving ground runs with, and the L1 bound it implies: after any single
 * fault a scheduler runs again within session timeout + fence time + start time.
 *
 * @param sessionTimeout {@code zookeeper.session-timeout}
 * @param selfFenceAfter {@code zookeeper.self-fence-after}
 * @param selfFenceStopTimeout {@code scheduler.self-fence-stop-timeout}
 * @param takeoverGrace {@code controller.takeover-grace}
 * @param pollInterval {@code controller.poll-interval}
 * @param heartbeatInterval {@code controller.heartbeat-interval}
 * @param sshConnectTimeout {@code ssh.connect-timeout}
 * @param sshCommandTimeout {@code ssh.command-timeout}
 * @param stopTimeout {@code scheduler.stop-timeout}
 * @param restartSleep {@code scheduler.restart-sleep}
 * @param startAllowance not a setting: how long the stand-in scheduler may take to start and be seen, on a loaded
 *     two-core machine
 */
record Tunings(
        Duration sessionTimeout,
        Duration selfFenceAfter,
        Duration selfFenceStopTimeout,
        Duration takeoverGrace,
        Duration pollInterval,
        Duration heartbeatInterval,
        Duration sshConnectTimeout,
        Duration sshCommandTimeout,
        Duration stopTimeout,
        Duration restartSleep,
        Duration startAllowance) {

    // S4 budget: 2/3 x 4s + 2s + 0.5s = 5.2s < 4s + 1.5s (check-config refuses more). self-fence-after stays 2s:
    // a ZooKeeper leader election here takes over 1s, and must restart nothing.
    static final Tunings DEFAULT = new Tunings(
            Duration.ofSeconds(4),
            Duration.ofSeconds(2),
            Duration.ofMillis(500),
            Duration.ofMillis(1500),
            Duration.ofSeconds(1),
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            Duration.ofSeconds(2),
            Duration.ofMillis(200),
            Duration.ofSeconds(3));

    /**
     * For a real Airflow: the same, but Airflow's scheduler gets 10 s to shut down on SIGTERM (it stops its executor
     * and log server first), and it takes seconds to import before it runs.
     */
    static final Tunings AIRFLOW = new Tunings(
            DEFAULT.sessionTimeout,
            DEFAULT.selfFenceAfter,
            DEFAULT.selfFenceStopTimeout,
            DEFAULT.takeoverGrace,
            DEFAULT.pollInterval,
            DEFAULT.heartbeatInterval,
            DEFAULT.sshConnectTimeout,
            DEFAULT.sshCommandTimeout,
            Duration.ofSeconds(10),
            DEFAULT.restartSleep,
            Duration.ofSeconds(20));

    /**
     * The L1 bound: the session timeout plus one ZooKeeper tick (sessions expire on ticks); the fence time, which is
     * the longer of takeover-grace (an unreachable host) and one bounded SSH call (connect + command timeout, a stop
     * over SSH); and the start time (restart-sleep plus the start allowance).
     */
    Duration l1Bound() {
        Duration sshCall = sshConnectTimeout.plus(sshCommandTimeout);
        Duration fence = takeoverGrace.compareTo(sshCall) > 0 ? takeoverGrace : sshCall;
        return sessionTimeout
                .plus(ZkEnsemble.TICK)
                .plus(fence)
                .plus(restartSleep)
                .plus(startAllowance);
    }

    /** The {@code asfc.conf} lines these tunings set, for the report. */
    String describe() {
        return "zookeeper.session-timeout = " + ms(sessionTimeout) + ", zookeeper.self-fence-after = "
                + ms(selfFenceAfter) + ", scheduler.self-fence-stop-timeout = " + ms(selfFenceStopTimeout)
                + ", controller.takeover-grace = " + ms(takeoverGrace)
                + ", controller.poll-interval = " + ms(pollInterval) + ", controller.heartbeat-interval = "
                + ms(heartbeatInterval) + ", controller.on-unfenceable = proceed, ssh.connect-timeout = "
                + ms(sshConnectTimeout) + ", ssh.command-timeout = " + ms(sshCommandTimeout)
                + ", scheduler.mode = child, scheduler.stop-timeout = " + ms(stopTimeout)
                + ", scheduler.restart-sleep = " + ms(restartSleep) + "; ZooKeeper tickTime = "
                + ms(ZkEnsemble.TICK);
    }

    static String ms(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
