package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/asfc-agent demo}, typed at as a user would: it shows a failover and cleans up. */
class DemoIT {
    private static final Pattern ACTIVE = Pattern.compile("ACTIVE controller  ([abc]) \\(epoch (\\d+)\\)");
    private static final Pattern DIR = Pattern.compile("(/\\S*asfc-demo-\\d+)");

    @TempDir
    Path dir;

    private Process demo;
    private final StringBuffer screen = new StringBuffer();

    @AfterEach
    void stopDemo() {
        if (demo != null && demo.isAlive()) {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    @Test
    void demoShowsAFailoverWhenTheActiveAgentIsKilledAndRemovesEverything() throws Exception {
        Distribution dist = Distribution.unpack(dir);
        demo = new ProcessBuilder(dist.home().resolve(Distribution.SCRIPT).toString(), "demo")
                .redirectErrorStream(true)
                .start();
        capture(demo.getInputStream());
        OutputStream keys = demo.getOutputStream();

        await().atMost(Duration.ofSeconds(60))
                .until(() -> lastActive() != null && screen.toString().contains("RUNNING"));
        String first = lastActive();
        keys.write("a\n".getBytes(StandardCharsets.UTF_8)); // kill -9 the ACTIVE agent
        keys.flush();

        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String now = lastActive();
            return now != null && !now.equals(first);
        });
        String afterKill = screen.toString();
        assertTrue(afterKill.contains("killed (-9) the ACTIVE agent " + first), this::describe);
        keys.write("q\n".getBytes(StandardCharsets.UTF_8));
        keys.flush();

        assertTrue(demo.waitFor(60, TimeUnit.SECONDS), this::describe);
        assertEquals(0, demo.exitValue(), this::describe);
        Matcher where = DIR.matcher(screen);
        assertTrue(where.find(), this::describe);
        Path demoDir = Path.of(where.group(1));
        assertTrue(screen.toString().contains("demo ended; removed " + demoDir), this::describe);
        assertFalse(Files.exists(demoDir), "the demo directory is removed");
        assertFalse(
                ProcessHandle.allProcesses()
                        .anyMatch(p -> p.info().commandLine().orElse("").contains(demoDir.toString())),
                "no process of the demo is left");
        assertNotEquals(first, lastActive());
    }

    /** The ACTIVE node of the newest screen. */
    private String lastActive() {
        Matcher m = ACTIVE.matcher(screen);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    private void capture(InputStream in) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[8192];
                    try {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            screen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                        }
                    } catch (IOException e) {
                        // the demo ended
                    }
                },
                "demo-screen");
        t.setDaemon(true);
        t.start();
    }

    private String describe() {
        String s = screen.toString();
        return "demo output (last 3000 chars):\n" + s.substring(Math.max(0, s.length() - 3000));
    }
}
