package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code asfc.hooks}: defaults, every key, and bad values reported without showing secrets. */
class HookConfigTest {
    private static final String MINIMAL =
            """
            asfc {
              zookeeper.connect = "zk1:2181"
            }
            """;

    @TempDir
    Path dir;

    private final SettingsLoader loader = new SettingsLoader(Path.of("/opt/asfc"), () -> "host-a");

    @Test
    void noHookByDefault() throws IOException {
        HookSettings hooks = loader.load(write(MINIMAL)).hooks();

        assertEquals(Optional.empty(), hooks.onEvent());
        assertEquals(Duration.ofSeconds(10), hooks.timeout());
        assertEquals(100, hooks.queueSize());
        assertEquals(Optional.empty(), hooks.webhook().url());
        assertTrue(hooks.webhook().headers().isEmpty());
        assertEquals(Duration.ofSeconds(5), hooks.webhook().timeout());
        assertEquals(5, hooks.webhook().maxAttempts());
        assertEquals(Duration.ofSeconds(1), hooks.webhook().retryBackoff());
        assertEquals(Duration.ofSeconds(30), hooks.webhook().maxRetryBackoff());
        assertEquals(100, hooks.webhook().queueSize());
    }

    @Test
    void everyKeyLoads() throws IOException {
        HookSettings hooks = loader.load(
                        write(
                                MINIMAL
                                        + """
                asfc.hooks {
                  on-event = "/etc/asfc/on-event.sh --quiet"
                  timeout = 3s
                  queue-size = 7
                  webhook {
                    url = "https://hooks.example.com/services/T0/B0/SECRETPATH"
                    headers { Authorization = "Bearer s3cret", X-Team = ops }
                    timeout = 2s
                    max-attempts = 3
                    retry-backoff = 200ms
                    max-retry-backoff = 1s
                    queue-size = 9
                  }
                }
                """))
                .hooks();

        assertEquals(Optional.of("/etc/asfc/on-event.sh --quiet"), hooks.onEvent());
        assertEquals(Duration.ofSeconds(3), hooks.timeout());
        assertEquals(7, hooks.queueSize());
        HookSettings.Webhook webhook = hooks.webhook();
        assertEquals(Optional.of(URI.create("https://hooks.example.com/services/T0/B0/SECRETPATH")), webhook.url());
        assertEquals("Bearer s3cret", webhook.headers().get("Authorization").reveal());
        assertEquals("ops", webhook.headers().get("X-Team").reveal());
        assertEquals(Duration.ofSeconds(2), webhook.timeout());
        assertEquals(3, webhook.maxAttempts());
        assertEquals(Duration.ofMillis(200), webhook.retryBackoff());
        assertEquals(Duration.ofSeconds(1), webhook.maxRetryBackoff());
        assertEquals(9, webhook.queueSize());
        assertEquals("https://hooks.example.com", webhook.loggable());
        assertFalse(webhook.toString().contains("s3cret"), webhook.toString());
    }

    @Test
    void badValuesAreReportedTogetherWithoutShowingSecrets() throws IOException {
        Path file = write(
                MINIMAL
                        + """
                asfc.hooks {
                  timeout = 0s
                  queue-size = 0
                  webhook {
                    url = "ftp://example.com/SECRETPATH"
                    headers { Host = "s3cret-1", "Bad Name" = "s3cret-2" }
                    max-attempts = 0
                    retry-backoff = 10s
                    max-retry-backoff = 1s
                  }
                }
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(
                List.of(
                        "asfc.hooks.timeout",
                        "asfc.hooks.queue-size",
                        "asfc.hooks.webhook.max-attempts",
                        "asfc.hooks.webhook.url",
                        "asfc.hooks.webhook.headers.Host",
                        "asfc.hooks.webhook.headers.Bad Name",
                        "asfc.hooks.webhook.max-retry-backoff"),
                e.problems().stream().map(ConfigProblem::key).toList(),
                e.getMessage());
        assertFalse(e.getMessage().contains("SECRETPATH"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void anUnknownKeyUnderHooksIsAProblemButHeaderNamesAreFree() throws IOException {
        Path file = write(MINIMAL + "asfc.hooks.on-events = \"/bin/true\"\nasfc.hooks.webhook.headers.X-Any = y\n");

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> loader.load(file));

        assertEquals(
                List.of("asfc.hooks.on-events"),
                e.problems().stream().map(ConfigProblem::key).toList(),
                e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'on-event'"), e.getMessage());
    }

    private Path write(String conf) throws IOException {
        Path file = dir.resolve("asfc.conf");
        Files.writeString(file, conf);
        return file;
    }
}
