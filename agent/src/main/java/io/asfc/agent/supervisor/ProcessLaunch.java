package io.asfc.agent.supervisor;

import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ConfiguredCommand;
import io.asfc.common.process.ProcessOrigin;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the command that starts a scheduler: {@code setsid /bin/sh -c <command>} in a new session,
 * with the configured virtualenv and environment, stdin from /dev/null and output appended to a
 * file, so no pipe is ever inherited (a {@code nohup ... &} child can't hang the agent). It marks
 * the command's whole tree with {@code ASFC_NODE=<node>} ({@link ProcessOrigin}), so that no agent
 * takes it for a scheduler asfc did not start.
 */
public final class ProcessLaunch {
    private ProcessLaunch() {}

    /** @param node the node id the command runs for; null: no mark (a one-off check outside the agent) */
    public static ProcessBuilder builder(SchedulerSettings settings, String node, String command, Path output)
            throws IOException {
        ProcessBuilder pb = ConfiguredCommand.detached(command, output);
        Map<String, String> env = pb.environment();
        settings.virtualenv().ifPresent(venv -> {
            env.put("VIRTUAL_ENV", venv.toString());
            env.put("PATH", venv.resolve("bin") + File.pathSeparator + env.getOrDefault("PATH", "/usr/bin:/bin"));
        });
        env.putAll(settings.environment());
        if (node != null) {
            env.put(ProcessOrigin.VARIABLE, node);
        } else {
            env.remove(ProcessOrigin.VARIABLE);
        }
        return pb;
    }
}
