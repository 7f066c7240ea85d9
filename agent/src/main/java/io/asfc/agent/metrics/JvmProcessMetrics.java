package io.asfc.agent.metrics;

import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The Prometheus Java client's {@code jvm_*} and {@code process_*} metrics, registered in one
 * agent's own registry. Each is read from the JVM's MXBeans (and {@code /proc/self}) when scraped,
 * so they cost nothing between scrapes.
 *
 * <p>Not {@code JvmMetrics.builder().register(registry)}: it remembers every registry it was given
 * in a static set, and with it comes {@code JvmMemoryPoolAllocationMetrics}, which adds a GC
 * listener per registry that is never removed; several agents in one JVM (tests, the benchmarks)
 * would keep both forever. {@code JvmNativeMemoryMetrics} is left out too: it needs
 * {@code -XX:NativeMemoryTracking}, which the agent does not run with.
 */
final class JvmProcessMetrics {
    private JvmProcessMetrics() {}

    static void register(PrometheusRegistry registry) {
        JvmMemoryMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        JvmThreadsMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
        ProcessMetrics.builder().register(registry);
    }
}
