package io.asfc.it.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * What the proving ground's scheduler hosts run under their agents: the stand-in scheduler ({@link StandIn}), or a
 * real Airflow ({@link AirflowWorkload}). The proving ground builds the bridge, the ZooKeeper ensemble and the
 * scheduler hosts, then asks the workload to {@link #prepare} what else it needs, then starts the agents.
 */
interface Workload extends AutoCloseable {

    /** Sets up what the schedulers need (a script, a database host, ...), once the hosts and ZooKeeper are up. */
    void prepare(ProvingGround pg) throws IOException, InterruptedException;

    /** {@code scheduler.start-command} of the agent on {@code node}. */
    String startCommand(String node);

    /** HOCON appended to {@code node}'s {@code asfc.conf} (it may override what the proving ground wrote). */
    default String extraConf(String node) {
        return "";
    }

    /**
     * Whether the proving ground adds its agentless host for this workload. Its scheduler is the ACTIVE controller's
     * own {@code start-command} (and {@code environment}), run over SSH there, so that command must not depend on
     * which host's agent wrote it.
     */
    default boolean agentlessHost() {
        return false;
    }

    /** Which command lines ({@code /proc/<pid>/cmdline}, NUL-separated) are scheduler main processes. */
    Predicate<String> isMain();

    /** A string in the command line of every scheduler main process: the observer's sampler reports only those. */
    String mainMarker();

    /**
     * The lock file every scheduler main process holds while it lives ({@code --lifetime-lock} of the stand-in), the
     * exact witness of S1 ({@link io.asfc.common.testing.Lifetimes}); empty when this workload's schedulers keep none.
     */
    default java.util.Optional<Path> lifetimeLock() {
        return java.util.Optional.empty();
    }

    /** How long the whole cluster may take to settle after it was built or restored. */
    default Duration settleTimeout() {
        return Duration.ofSeconds(90);
    }

    /**
     * A file that, holding a number of seconds, makes {@code node}'s scheduler take that long to exit on SIGTERM;
     * empty when this workload cannot do that.
     */
    default java.util.Optional<Path> termDelayFile(String node) {
        return java.util.Optional.empty();
    }

    /**
     * Copies {@code src/main/standin} (the stand-in scheduler, {@code lifetime_lock.py} that it and {@code
     * lifetime_exec.py} import) to {@code <pg>/standin}, once; returns that directory.
     */
    static Path copyStandin(ProvingGround pg) throws IOException {
        Path source = Path.of(System.getProperty("user.dir")).resolve("src/main/standin");
        Path target = Files.createDirectories(pg.dir().resolve("standin"));
        for (String file : java.util.List.of("airflow_standin.py", "lifetime_lock.py", "lifetime_exec.py")) {
            if (!Files.exists(target.resolve(file))) {
                Files.copy(source.resolve(file), target.resolve(file));
            }
        }
        return target;
    }

    /** Stops what {@link #prepare} started; the proving ground's hosts are closed after it. */
    @Override
    default void close() {}

    /** The stand-in scheduler, {@code airflow_standin.py}, which appends a tick to one shared file while it runs. */
    final class StandIn implements Workload {
        private Path script;
        private Path ticks;

        @Override
        public void prepare(ProvingGround pg) throws IOException {
            script = copyStandin(pg).resolve("airflow_standin.py");
            ticks = pg.dir().resolve("ticks");
        }

        /**
         * The same on every host: the stand-in names itself after the host it runs on ({@code --host} defaults to the
         * host name, the node id here), and {@code $(uname -n)} picks that host's term-delay file. So the command that
         * the ACTIVE controller runs over SSH on the agentless host is right there too.
         */
        @Override
        public String startCommand(String node) {
            return "exec %s %s --tick-file %s --term-delay-file %s/term-delay-$(uname -n) --lifetime-lock %s"
                    .formatted(
                            Host.PYTHON,
                            script,
                            ticks,
                            ticks.getParent(),
                            lifetimeLock().orElseThrow());
        }

        /** On the file system every host shares, like the tick file. */
        @Override
        public java.util.Optional<Path> lifetimeLock() {
            return java.util.Optional.of(ticks.resolveSibling("lifetime.lock"));
        }

        @Override
        public boolean agentlessHost() {
            return true;
        }

        @Override
        public java.util.Optional<Path> termDelayFile(String node) {
            return java.util.Optional.of(ticks.resolveSibling("term-delay-" + node));
        }

        @Override
        public Predicate<String> isMain() {
            return Observer.standInMain(script.toString());
        }

        @Override
        public String mainMarker() {
            return script.toString();
        }

        /** The file every stand-in appends its ticks to. */
        Path ticks() {
            return ticks;
        }
    }
}
