package io.asfc.agent.hooks;

import io.asfc.agent.metrics.Metrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The value of one series in a Prometheus text page, e.g. {@code asfc_hook_runs_total{result="ok"}}. */
final class MetricsText {
    private MetricsText() {}

    static String page(Metrics metrics) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static double value(Metrics metrics, String series) {
        return value(page(metrics), series);
    }

    static double value(String page, String series) {
        Map<String, String> samples = page.lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .collect(Collectors.toMap(l -> l.substring(0, l.lastIndexOf(' ')), Function.identity(), (a, b) -> a));
        String line = samples.get(series);
        if (line == null) {
            throw new AssertionError(series + " is not in:\n" + page);
        }
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    static List<String> lines(String page, String prefix) {
        return page.lines().filter(l -> l.startsWith(prefix)).toList();
    }
}
