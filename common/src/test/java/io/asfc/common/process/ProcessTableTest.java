package io.asfc.common.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessTableTest {
    @TempDir
    Path proc;

    @Test
    void noSnapshotWhenNoCommandLineMatches() throws IOException {
        process(1, 0, "/sbin/init\0");
        process(42, 1, "/usr/bin/python3\0/opt/venv/bin/airflow\0webserver\0");
        Files.createDirectories(proc.resolve("self")); // not a pid
        process(7, 0, ""); // a kernel thread

        assertTrue(ProcessTable.snapshotIfAnyMatches(proc, Pattern.compile("airflow scheduler"))
                .isEmpty());
        assertTrue(
                ProcessTable.snapshotIfAnyMatches(proc, Pattern.compile("webserver "))
                        .isEmpty(),
                "trimmed");
    }

    @Test
    void aSnapshotOfEveryProcessWhenOneMatches() throws IOException {
        process(1, 0, "/sbin/init\0");
        process(42, 1, "/opt/venv/bin/airflow\0scheduler\0");
        process(43, 42, "sleep\0" + "10\0");
        Files.createDirectories(proc.resolve("99")); // ended while listed: no files

        Optional<ProcessTable> table = ProcessTable.snapshotIfAnyMatches(proc, Pattern.compile("airflow scheduler$"));

        assertTrue(table.isPresent());
        assertEquals(3, table.get().all().size());
        assertEquals(
                "/opt/venv/bin/airflow scheduler",
                table.get().get(42).orElseThrow().cmdline());
        assertEquals("sleep 10", table.get().get(43).orElseThrow().cmdline());
        assertEquals(42, table.get().get(43).orElseThrow().ppid());
    }

    private void process(long pid, long ppid, String cmdline) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("cmdline"), cmdline, StandardCharsets.UTF_8);
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        // cutime cstime priority nice threads itrealvalue starttime
        Files.writeString(
                dir.resolve("stat"),
                pid + " (x) S " + ppid + " " + pid + " " + pid + " 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + (100 + pid)
                        + " 0\n",
                StandardCharsets.UTF_8);
    }
}
