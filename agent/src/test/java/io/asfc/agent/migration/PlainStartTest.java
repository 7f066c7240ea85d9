package io.asfc.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PlainStartTest {
    @Test
    void theInitTemplateWithoutVenv() {
        PlainStart p = PlainStart.parse(
                        "export AIRFLOW_HOME=/home/airflow/airflow;;nohup airflow scheduler >> ~/airflow/logs/scheduler.logs &")
                .orElseThrow();

        assertEquals("airflow scheduler", p.command());
        assertEquals(Map.of("AIRFLOW_HOME", "/home/airflow/airflow"), p.environment());
        assertEquals(Optional.empty(), p.virtualenv());
        assertEquals(Optional.of(">> ~/airflow/logs/scheduler.logs"), p.output());
        assertTrue(p.nohup());
        assertTrue(p.background());
    }

    @Test
    void theInitTemplateWithVenv() {
        PlainStart p = PlainStart.parse("export AIRFLOW_HOME=/srv/af;source /srv/venv/bin/activate;"
                        + "nohup airflow scheduler >> ~/airflow/logs/scheduler.logs &")
                .orElseThrow();

        assertEquals(Optional.of("/srv/venv"), p.virtualenv());
        assertEquals(Map.of("AIRFLOW_HOME", "/srv/af"), p.environment());
    }

    @Test
    void argumentsQuotedValuesAndAFullPathAreKept() {
        PlainStart p = PlainStart.parse("export AIRFLOW_HOME=\"/opt/my airflow\" AIRFLOW__CORE__PARALLELISM='8';"
                        + " . /opt/venv/bin/activate ; /opt/venv/bin/airflow scheduler -n 5  --subdir /dags"
                        + " > /tmp/out 2>&1 &")
                .orElseThrow();

        assertEquals("/opt/venv/bin/airflow scheduler -n 5 --subdir /dags", p.command());
        assertEquals(Map.of("AIRFLOW_HOME", "/opt/my airflow", "AIRFLOW__CORE__PARALLELISM", "8"), p.environment());
        assertEquals(Optional.of("/opt/venv"), p.virtualenv());
        assertEquals(Optional.of("> /tmp/out 2>&1"), p.output());
    }

    @Test
    void aForegroundSchedulerIsPlainToo() {
        PlainStart p = PlainStart.parse("airflow scheduler").orElseThrow();

        assertEquals("airflow scheduler", p.command());
        assertFalse(p.nohup() || p.background());
        assertEquals(Optional.empty(), p.output());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "sudo systemctl restart airflow-scheduler",
                "nohup airflow scheduler -D &",
                "airflow scheduler --daemon",
                "export AIRFLOW_HOME=$HOME/airflow;nohup airflow scheduler &",
                "export AIRFLOW_HOME=~/airflow;nohup airflow scheduler &",
                "cd /opt/airflow && nohup airflow scheduler &",
                "source venv/bin/activate;airflow scheduler",
                "source /opt/venv/bin/activate.sh;airflow scheduler",
                "AIRFLOW_HOME=/x;airflow scheduler",
                "nohup airflow scheduler | tee log &",
                "nohup airflow webserver &",
                "airflow scheduler & echo started",
                "/opt/airflow/bin/start-scheduler.sh",
                "nohup airflow scheduler \\; &",
            })
    void anythingElseIsNotRecognised(String command) {
        assertEquals(Optional.empty(), PlainStart.parse(command), command);
    }
}
