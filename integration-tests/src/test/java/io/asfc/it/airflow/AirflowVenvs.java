package io.asfc.it.airflow;

import io.asfc.it.CommandResult;
import io.asfc.it.Commands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The pinned Airflow venvs of the real-Airflow tests: built from {@code integration-tests/airflow/*.lock} by {@code
 * venv.sh}, or reused, in {@code ~/.cache/asfc-it/airflow/airflow-<line>} ({@code -Dasfc.airflow.venvs=DIR}).
 */
public final class AirflowVenvs {

    /** A cold build downloads some 300 MB from PyPI. */
    private static final Duration TIMEOUT = Duration.ofMinutes(20);

    private AirflowVenvs() {}

    /** {@code integration-tests/airflow}: venv.sh, pg.sh and the lock files. */
    public static Path scripts() {
        return Path.of(System.getProperty("user.dir")).resolve("airflow");
    }

    /** Where the venv of {@code line} ("2" or "3") is, once {@link #build} succeeded. */
    public static Path venv(String line) {
        return Path.of(System.getProperty(
                        "asfc.airflow.venvs",
                        Path.of(System.getProperty("user.home"), ".cache/asfc-it/airflow")
                                .toString()))
                .resolve("airflow-" + line);
    }

    /** Builds or reuses the venv of {@code line} with venv.sh, run in {@code workDir}; exit 0 when it is ready. */
    public static CommandResult build(String line, Path workDir) throws IOException, InterruptedException {
        return Commands.run(
                List.of(
                        scripts().resolve("venv.sh").toString(),
                        line,
                        venv(line).toString()),
                workDir,
                System.getenv(),
                TIMEOUT);
    }
}
