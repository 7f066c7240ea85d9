package io.asfc.agent.metrics;

import io.asfc.agent.Agent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** One scrape of an agent's {@code /metrics} in the Prometheus text format, and its samples. */
public record MetricsPage(String text) {
    /** Appended to a test agent's config: the HTTP endpoint on a free port. */
    public static final String HTTP = "\nasfc.http { enabled = true, bind = \"127.0.0.1\", port = 0 }\n";

    private static final HttpClient HTTP_CLIENT =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public static MetricsPage scrape(Agent agent) throws Exception {
        int port = agent.httpAddress().orElseThrow().getPort();
        HttpResponse<String> response = HTTP_CLIENT.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + response.statusCode() + ": " + response.body());
        }
        return new MetricsPage(response.body());
    }

    /** Every sample, keyed by its series as written, e.g. {@code jvm_memory_used_bytes{area="heap"}}. */
    Map<String, Double> samples() {
        Map<String, Double> samples = new LinkedHashMap<>();
        text.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).forEach(l -> {
            int space = l.lastIndexOf(' ');
            samples.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
        });
        return samples;
    }

    /** The name of every sample, e.g. {@code asfc_scheduler_restart_seconds_bucket}. */
    Set<String> names() {
        Set<String> names = new TreeSet<>();
        samples().keySet().forEach(series -> names.add(nameOf(series)));
        return names;
    }

    /** The samples of one name, whatever their labels. */
    Map<String, Double> samples(String name) {
        Map<String, Double> matching = new LinkedHashMap<>();
        samples().forEach((series, value) -> {
            if (nameOf(series).equals(name)) {
                matching.put(series, value);
            }
        });
        if (matching.isEmpty()) {
            throw new AssertionError(name + " is not in:\n" + text);
        }
        return matching;
    }

    /** The one sample of this series, e.g. {@code asfc_role{role="active"}}. */
    public double value(String series) {
        Double value = samples().get(series);
        if (value == null) {
            throw new AssertionError(series + " is not in:\n" + text);
        }
        return value;
    }

    private static String nameOf(String series) {
        int brace = series.indexOf('{');
        return brace < 0 ? series : series.substring(0, brace);
    }
}
