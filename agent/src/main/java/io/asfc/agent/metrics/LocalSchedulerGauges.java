package io.asfc.agent.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The local scheduler as this agent last reported it in {@code agents/<node>}. */
final class LocalSchedulerGauges {
    private final Gauge running;
    private final Gauge healthy;
    private final Gauge failures;

    LocalSchedulerGauges(PrometheusRegistry registry) {
        running = Gauge.builder()
                .withoutExemplars()
                .name("asfc_scheduler_running")
                .help("1 while a scheduler supervised by this agent runs on its host, else 0")
                .register(registry);
        healthy = Gauge.builder()
                .withoutExemplars()
                .name("asfc_scheduler_healthy")
                .help("1 while the local scheduler runs and is not judged unhealthy by the health check, else 0")
                .register(registry);
        failures = Gauge.builder()
                .withoutExemplars()
                .name("asfc_scheduler_failures")
                .help("Failures in a row of the local scheduler (deaths, failed starts, unhealthy restarts);"
                        + " at max-restarts-before-failover the node is quarantined")
                .register(registry);
    }

    void show(boolean isRunning, boolean isHealthy, int failuresInARow) {
        running.set(isRunning ? 1 : 0);
        healthy.set(isRunning && isHealthy ? 1 : 0);
        failures.set(failuresInARow);
    }
}
