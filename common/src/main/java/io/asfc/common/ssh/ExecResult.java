package io.asfc.common.ssh;

import java.nio.charset.StandardCharsets;

/** What one remote command returned. */
public record ExecResult(int exitCode, byte[] stdout, String stderr) {

    public String out() {
        return new String(stdout, StandardCharsets.UTF_8);
    }
}
