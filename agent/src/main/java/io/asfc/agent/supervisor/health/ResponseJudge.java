package io.asfc.agent.supervisor.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.zk.Json;
import java.io.IOException;
import java.util.Optional;

/**
 * Turns one HTTP answer into a {@link HealthResult}. Airflow's scheduler health server (port 8974)
 * answers 200 or 503 with no JSON; the webserver's {@code /health} (Airflow 1.10 and 2) and {@code
 * /api/v2/monitor/health} (Airflow 3) answer 200 with {@code {"scheduler":{"status":"healthy"}}}.
 */
final class ResponseJudge {
    private static final String HEALTHY = "healthy";

    private ResponseJudge() {}

    static HealthResult judge(HealthFormat format, int code, BoundedBody body) {
        return switch (format) {
            case STATUS_CODE -> byStatusCode(code);
            case AIRFLOW_JSON -> byAirflowJson(code, body);
            case AUTO -> parse(body)
                    .filter(root -> !schedulerStatus(root).isMissingNode())
                    .map(root -> bySchedulerStatus(code >= 200 && code < 300, code, root))
                    .orElseGet(() -> byStatusCode(code));
        };
    }

    private static HealthResult byStatusCode(int code) {
        return new HealthResult(
                code == 200 ? HealthResult.Status.HEALTHY : HealthResult.Status.UNHEALTHY, "HTTP " + code);
    }

    private static HealthResult byAirflowJson(int code, BoundedBody body) {
        if (code != 200) {
            return unhealthy("HTTP " + code);
        }
        if (body.truncated()) {
            return unhealthy("HTTP 200 but the body is longer than " + body.bytes().length + " bytes");
        }
        Optional<JsonNode> root = parse(body);
        if (root.isEmpty()) {
            return unhealthy("HTTP 200 but the body is not JSON");
        }
        if (schedulerStatus(root.get()).isMissingNode()) {
            return unhealthy("HTTP 200 but the JSON has no scheduler.status");
        }
        return bySchedulerStatus(true, code, root.get());
    }

    private static HealthResult bySchedulerStatus(boolean codeOk, int code, JsonNode root) {
        JsonNode node = schedulerStatus(root);
        String status = node.isTextual() ? node.asText() : node.toString();
        JsonNode heartbeat = root.path("scheduler").path("latest_scheduler_heartbeat");
        String detail = "HTTP " + code + ", scheduler.status " + status
                + (heartbeat.isTextual() ? ", latest heartbeat " + heartbeat.asText() : "");
        boolean healthy = codeOk && HEALTHY.equals(status);
        return new HealthResult(healthy ? HealthResult.Status.HEALTHY : HealthResult.Status.UNHEALTHY, detail);
    }

    private static JsonNode schedulerStatus(JsonNode root) {
        return root.path("scheduler").path("status");
    }

    /** The JSON document, or empty when the body is empty, truncated or not JSON. */
    private static Optional<JsonNode> parse(BoundedBody body) {
        if (body.truncated() || body.bytes().length == 0) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(Json.mapper().readTree(body.bytes())).filter(root -> !root.isMissingNode());
        } catch (IOException e) {
            // Not JSON is an answer, not a failure: the caller reports it in the result's detail.
            return Optional.empty();
        }
    }

    private static HealthResult unhealthy(String detail) {
        return new HealthResult(HealthResult.Status.UNHEALTHY, detail);
    }
}
