package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell scripts shipped in the distribution pass shellcheck. */
class ShellcheckIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    @TempDir
    Path tempDir;

    @Test
    void shippedScriptsPassShellcheck() throws Exception {
        requireShellcheck();
        Distribution dist = Distribution.unpack(tempDir);

        CommandResult result = Commands.run(
                List.of("shellcheck", Distribution.SCRIPT, "conf/asfc-env.sh"), dist.home(), System.getenv(), TIMEOUT);

        assertEquals(0, result.exitCode(), result::describe);
    }

    /** Skips the test where shellcheck is missing, except on CI (CI=true), where a missing tool is a failure. */
    private void requireShellcheck() throws InterruptedException {
        String reason;
        try {
            CommandResult version = Commands.run(List.of("shellcheck", "--version"), tempDir, System.getenv(), TIMEOUT);
            if (version.exitCode() == 0) {
                return;
            }
            reason = "shellcheck --version failed:\n" + version.describe();
        } catch (IOException e) {
            reason = "shellcheck is not installed (" + e.getMessage() + ")";
        }
        if ("true".equals(System.getenv("CI"))) {
            fail(reason + "; CI must have it (e.g. apt-get install shellcheck)");
        }
        assumeTrue(false, reason + "; install shellcheck to run this test");
    }
}
