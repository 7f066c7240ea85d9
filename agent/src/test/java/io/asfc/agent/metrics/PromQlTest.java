package io.asfc.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {
    @Test
    void joinsAggregationsAndFunctionsLeaveOnlyTheMetrics() {
        assertEquals(
                Set.of("asfc_scheduler_running", "asfc_agent_info"),
                PromQl.metricNames(
                        """
                        sum by (cluster) (
                          asfc_scheduler_running{job="asfc"}
                            * on (job, instance) group_left (cluster) asfc_agent_info{job="asfc", node=~"a|b"}
                        ) == 0
                        """));
    }

    @Test
    void rangesNumbersVariablesAndKeywordsAreNoMetrics() {
        assertEquals(
                Set.of("asfc_failover_duration_seconds_bucket", "asfc_agent_info", "up"),
                PromQl.metricNames("histogram_quantile(0.95, sum by (le) (rate(asfc_failover_duration_seconds_bucket"
                        + "[$__rate_interval] offset 5m))) * on () group_left () asfc_agent_info{cluster=~\"$cluster\"}"
                        + " or vector(0) unless up == bool 1e3"));
    }

    @Test
    void grafanaLabelValuesNamesItsSelectorOnly() {
        assertEquals(
                Set.of("asfc_agent_info"), PromQl.metricNames("label_values(asfc_agent_info{job=~\"$job\"}, cluster)"));
    }
}
