package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped systemd units pass {@code systemd-analyze verify} (where that tool exists). */
class SystemdUnitIT {
    private static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");

    @TempDir
    Path dir;

    @Test
    void shippedUnitVerifies() throws Exception {
        assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed here");
        Distribution dist = Distribution.unpack(dir);
        Path shipped = dist.home().resolve("conf/systemd/asfc-agent.service");
        assertTrue(Files.isRegularFile(shipped), "the tarball ships " + shipped);
        String unit = Files.readString(shipped).replace("/opt/asfc", dist.home().toString());

        Result ok = verify(unit, "asfc-agent.service");
        Result broken = verify(unit.replace("Type=simple", "Type=sometimes"), "asfc-broken.service");

        assertEquals(0, ok.code(), ok.output());
        assertTrue(ok.output().isBlank(), "no warnings: " + ok.output());
        assertNotEquals("", broken.output(), "the check must notice a broken unit");
    }

    /**
     * The Airflow units shipped as examples verify too, with the venv's {@code airflow} standing in for a real one;
     * the scheduler's never restarts by itself and cannot be enabled.
     */
    @Test
    void shippedAirflowUnitsVerify() throws Exception {
        assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed here");
        Distribution dist = Distribution.unpack(dir);
        Path airflow = Files.createDirectories(dir.resolve("venv/bin")).resolve("airflow");
        Files.writeString(airflow, "#!/bin/sh\nexit 0\n");
        assertTrue(airflow.toFile().setExecutable(true));
        for (String name :
                List.of("airflow-scheduler.service", "airflow-dag-processor.service", "airflow-api-server.service")) {
            Path shipped = dist.home().resolve("conf/systemd/" + name);
            assertTrue(Files.isRegularFile(shipped), "the tarball ships " + shipped);
            String unit = Files.readString(shipped);
            Result ok = verify(unit.replace("/opt/airflow/venv/bin/airflow", airflow.toString()), name);
            assertEquals(0, ok.code(), name + ": " + ok.output());
            assertTrue(ok.output().isBlank(), name + ": no warnings: " + ok.output());
        }
        String scheduler = Files.readString(dist.home().resolve("conf/systemd/airflow-scheduler.service"));
        assertTrue(scheduler.contains("\nRestart=no\n"), "the scheduler's unit must never restart it by itself");
        assertTrue(
                scheduler.lines().noneMatch("[Install]"::equals), "the scheduler's unit must not be enabled at boot");
    }

    private record Result(int code, String output) {}

    private Result verify(String unit, String name) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, unit);
        Process p = new ProcessBuilder(ANALYZE.toString(), "verify", file.toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze timed out");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }
}
