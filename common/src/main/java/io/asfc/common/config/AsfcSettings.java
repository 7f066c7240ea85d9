package io.asfc.common.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything an agent is configured with, loaded once by {@link SettingsLoader}. Components receive
 * the part they need, never the raw typesafe {@code Config}.
 *
 * @param source the file these settings were read from
 */
public record AsfcSettings(
        Path source,
        String cluster,
        String nodeId,
        List<String> nodes,
        List<String> agentlessNodes,
        Map<String, String> nodeHosts,
        ZkSettings zookeeper,
        SchedulerSettings scheduler,
        ControllerSettings controller,
        SshSettings ssh,
        AlertSettings alerts,
        HttpSettings http,
        HookSettings hooks) {

    /** Whether the ACTIVE controller runs this node's scheduler over SSH, for want of an agent there. */
    public boolean isAgentless(String node) {
        return agentlessNodes.contains(node);
    }

    /** The address used to reach a node over SSH. */
    public String hostOf(String node) {
        return nodeHosts.getOrDefault(node, node);
    }
}
