package io.asfc.common.process;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An operator's command from the local config (S5: never from znode data): an event hook, a
 * fencing method. It runs as {@code setsid /bin/sh -c <command>}, with stdin from /dev/null and its
 * output appended to a file. Its environment is {@link #INHERITED} of the agent's own and the
 * variables its caller passes, nothing else: the agent's environment may hold secrets (a
 * password set through {@code ${?VAR}}), and data reaches the command only as variables, never in
 * its command line.
 */
public final class ConfiguredCommand {
    /** The only variables of the agent's own environment that such a command inherits: no secret is among them. */
    public static final List<String> INHERITED =
            List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR");

    private ConfiguredCommand() {}

    /** Starts {@code command} with {@code variables} in its environment, its output appended to {@code output}. */
    public static Process start(String command, Map<String, String> variables, Path output) throws IOException {
        ProcessBuilder pb = detached(command, output);
        Map<String, String> env = pb.environment();
        env.clear();
        Map<String, String> own = System.getenv();
        INHERITED.stream().filter(own::containsKey).forEach(name -> env.put(name, own.get(name)));
        env.putIfAbsent("PATH", "/usr/bin:/bin");
        env.putAll(variables);
        return pb.start();
    }

    /**
     * {@code setsid /bin/sh -c <command>} in a session of its own, stdin from /dev/null, output
     * (stderr too) appended to {@code output}, whose directory is created: no pipe is ever inherited,
     * so a {@code nohup ... &} child cannot hang the caller. Its environment is still the caller's.
     */
    public static ProcessBuilder detached(String command, Path output) throws IOException {
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new ProcessBuilder("setsid", "/bin/sh", "-c", command)
                .redirectInput(new File("/dev/null"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
    }

    /**
     * Stops what a started command left running: its tree, and its session (setsid made it the
     * leader, so children that daemonized keep its sid): SIGTERM, then SIGKILL after {@code grace}.
     */
    public static TreeStopper.Result stop(Process process, TreeStopper stopper, Duration grace)
            throws InterruptedException {
        long pid = process.pid();
        ProcessTable table = ProcessTable.snapshot();
        Set<ProcessInfo> members = new LinkedHashSet<>(table.tree(pid));
        members.addAll(table.matching(p -> p.sid() == pid));
        try {
            return stopper.stop(members, grace);
        } catch (InterruptedException e) {
            members.forEach(p -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly));
            throw e;
        } finally {
            process.destroyForcibly();
        }
    }
}
