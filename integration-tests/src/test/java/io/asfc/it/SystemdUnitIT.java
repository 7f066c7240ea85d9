package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped systemd unit passes {@code systemd-analyze verify} (where that tool exists). */
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
