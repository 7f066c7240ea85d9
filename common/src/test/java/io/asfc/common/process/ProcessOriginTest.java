package io.asfc.common.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProcessOriginTest {
    @Test
    void theMarkIsReadFromTheEnvironment() {
        byte[] marked = "PATH=/bin\0ASFC_NODE=b\0HOME=/root\0".getBytes(StandardCharsets.UTF_8);
        assertEquals(ProcessOrigin.marked("b"), ProcessOrigin.fromEnviron(marked));
        byte[] near = "PATH=/bin\0XASFC_NODE=b\0ASFC_NODES=c\0".getBytes(StandardCharsets.UTF_8);
        assertEquals(ProcessOrigin.UNMARKED, ProcessOrigin.fromEnviron(near));
        assertEquals(ProcessOrigin.UNMARKED, ProcessOrigin.fromEnviron(new byte[0]));
    }

    @Test
    void aRealProcessInThisNamespaceIsMarkedOrNot() throws Exception {
        ProcessBuilder marked = new ProcessBuilder("sleep", "30").redirectInput(new File("/dev/null"));
        marked.environment().put(ProcessOrigin.VARIABLE, "a");
        ProcessBuilder plain = new ProcessBuilder("sleep", "30").redirectInput(new File("/dev/null"));
        plain.environment().remove(ProcessOrigin.VARIABLE);
        Process m = marked.start();
        Process p = plain.start();
        try {
            assertEquals(ProcessOrigin.marked("a"), ProcessOrigin.of(m.pid()));
            assertEquals(ProcessOrigin.UNMARKED, ProcessOrigin.of(p.pid()));
            assertEquals(ProcessOrigin.UNKNOWN, ProcessOrigin.of(Long.MAX_VALUE), "no such process");
        } finally {
            m.destroyForcibly();
            p.destroyForcibly();
        }
    }
}
