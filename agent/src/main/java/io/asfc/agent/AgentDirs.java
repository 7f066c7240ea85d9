package io.asfc.agent;

import java.nio.file.Path;

/**
 * Where the agent keeps files of its own: the scheduler's output (log dir) and the record of the
 * scheduler session it runs, which a restarted agent adopts (run dir).
 */
public record AgentDirs(Path logDir, Path runDir) {

    /** From the launcher's {@code -Dasfc.log.dir} / {@code -Dasfc.pid.dir}, else logs/ and run/ under home. */
    public static AgentDirs fromSystemProperties(Path home) {
        return new AgentDirs(
                Path.of(System.getProperty("asfc.log.dir", home.resolve("logs").toString())),
                Path.of(System.getProperty("asfc.pid.dir", home.resolve("run").toString())));
    }

    /** The record of the child-mode scheduler session of {@code node}, which a restarted agent adopts. */
    public Path schedulerSession(String node) {
        return runDir.resolve("scheduler-" + node + ".session");
    }

    /** Where the output of {@code hooks.on-event} on {@code node} goes. */
    public Path hookOutput(String node) {
        return logDir.resolve("hooks-" + node + ".out");
    }

    /** Where the scheduler's (and its commands') output of {@code node} goes. */
    public Path schedulerOutput(String node) {
        return logDir.resolve("scheduler-" + node + ".out");
    }

    /**
     * A request to hand over at the next stop, written by {@code bin/asfc-agent stop --hand-over}:
     * the pid of the agent it is for, so that it never applies to a later one.
     */
    public Path handOverRequest() {
        return runDir.resolve("hand-over.request");
    }

    /** What an agent of {@code node} that left for a hand-over tells the next one ({@link HandOverFile}). Secret. */
    public Path handOverFile(String node) {
        return runDir.resolve("hand-over-" + node + ".json");
    }

    /** The fifo on which the on-host deadman of {@code node} waits for the next agent after a hand-over. */
    public Path handOverFifo(String node) {
        return runDir.resolve("hand-over-" + node + ".fifo");
    }
}
