package io.asfc.agent.controller;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * What a {@code shell:} fencing method needs from the agent's configuration.
 *
 * @param cluster {@code asfc.cluster}, as {@code ASFC_CLUSTER}
 * @param hostOf a node's host ({@code node-hosts}, else its id), as {@code ASFC_HOST}
 * @param timeout {@code controller.fencing-timeout}: how long one method may run
 * @param outputDir where {@code fencing-<node>.out} collects the methods' output (the log dir)
 */
public record FencingSite(String cluster, Function<String, String> hostOf, Duration timeout, Path outputDir) {}
