package io.asfc.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.config.Modes.AuthScheme;
import io.asfc.common.config.Modes.Failback;
import io.asfc.common.config.Modes.ForeignScheduler;
import io.asfc.common.config.Modes.HealthFormat;
import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.Modes.OnUnfenceable;
import io.asfc.common.config.Modes.SchedulerMode;
import io.asfc.common.config.Modes.SmtpTransport;
import io.asfc.common.config.Modes.StoreType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Loads {@code asfc.conf} over {@code reference.conf} and maps it once to {@link AsfcSettings}. Every
 * problem (unknown key, bad duration, bad enum, missing value, inconsistent values) is collected and
 * thrown together in an {@link InvalidConfigException}, each with its key and file:line.
 */
public final class SettingsLoader {
    private static final String ROOT = "asfc";

    private final Path home;
    private final Supplier<String> hostname;

    /**
     * @param home the installation directory; relative paths in the config are resolved against it
     * @param hostname the default for {@code asfc.node.id}
     */
    public SettingsLoader(Path home, Supplier<String> hostname) {
        this.home = home;
        this.hostname = hostname;
    }

    public AsfcSettings load(Path file) {
        String origin = file.toString();
        if (!Files.isRegularFile(file)) {
            throw single(origin, "config file not found; create one with 'asfc-agent init " + file + "'");
        }
        Config reference = ConfigFactory.parseResources(SettingsLoader.class.getClassLoader(), "reference.conf");
        Config user;
        Config merged;
        Config userResolved;
        try {
            user = ConfigFactory.parseFile(
                    file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            merged = user.withFallback(reference).resolve();
            userResolved = user.resolveWith(merged);
        } catch (ConfigException.Parse e) {
            throw single(where(e, origin), syntaxMessage(file, e));
        } catch (ConfigException e) {
            throw single(where(e, origin), e.getMessage());
        }
        List<ConfigProblem> problems = new ArrayList<>(UnknownKeys.find(userResolved, reference.resolve()));
        ConfigReader reader = new ConfigReader(merged, userResolved, origin);
        AsfcSettings settings = Validation.check(reader, read(reader, file));
        problems.addAll(reader.problems());
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
        return settings;
    }

    private AsfcSettings read(ConfigReader r, Path file) {
        String nodeId = r.has(k("node.id")) ? r.string(k("node.id")) : hostname.get();
        return new AsfcSettings(
                file,
                r.string(k("cluster")),
                nodeId,
                r.stringList(k("nodes")),
                r.stringList(k("agentless-nodes")),
                r.stringMap(k("node-hosts")),
                zookeeper(r),
                scheduler(r),
                new ControllerSettings(
                        r.positiveDuration(k("controller.poll-interval")),
                        r.positiveDuration(k("controller.heartbeat-interval")),
                        r.enumValue(k("controller.on-unfenceable"), OnUnfenceable.class),
                        r.positiveDuration(k("controller.takeover-grace")),
                        r.integer(k("controller.verify-agents-every"), 0, 1_000_000),
                        r.integer(k("events.retain"), 1, 1_000_000),
                        r.positiveDuration(k("controller.quarantine-backoff")),
                        r.positiveDuration(k("controller.max-quarantine-backoff")),
                        r.positiveDuration(k("controller.heartbeat-refresh")),
                        fencing(r),
                        r.positiveDuration(k("controller.fencing-timeout")),
                        r.enumValue(k("controller.failback"), Failback.class),
                        r.positiveDuration(k("controller.failback-after"))),
                ssh(r),
                alerts(r),
                new HttpSettings(
                        r.bool(k("http.enabled")), r.string(k("http.bind")), r.integer(k("http.port"), 0, 65535)),
                hooks(r));
    }

    private HookSettings hooks(ConfigReader r) {
        Map<String, Secret> headers = new LinkedHashMap<>();
        r.stringMap(k("hooks.webhook.headers")).forEach((name, value) -> headers.put(name, Secret.of(value)));
        return new HookSettings(
                r.optionalString(k("hooks.on-event")),
                r.positiveDuration(k("hooks.timeout")),
                r.integer(k("hooks.queue-size"), 1, 100_000),
                new HookSettings.Webhook(
                        r.optionalString(k("hooks.webhook.url")).flatMap(url -> uri(r, k("hooks.webhook.url"), url)),
                        java.util.Collections.unmodifiableMap(headers),
                        r.positiveDuration(k("hooks.webhook.timeout")),
                        r.integer(k("hooks.webhook.max-attempts"), 1, 100),
                        r.positiveDuration(k("hooks.webhook.retry-backoff")),
                        r.positiveDuration(k("hooks.webhook.max-retry-backoff")),
                        r.integer(k("hooks.webhook.queue-size"), 1, 100_000)));
    }

    /** The URI, or a problem that shows only its scheme (the rest may be a secret, e.g. a Slack webhook's path). */
    private static Optional<URI> uri(ConfigReader r, String key, String text) {
        try {
            return Optional.of(new URI(text.trim()));
        } catch (URISyntaxException e) {
            r.problem(key, "is not a valid URL (value not shown: it may hold a secret)");
            return Optional.empty();
        }
    }

    /** {@code controller.fencing}: known methods only; an unknown name is a problem (exit 78). */
    private List<FencingEntry> fencing(ConfigReader r) {
        String key = k("controller.fencing");
        List<FencingEntry> methods = new ArrayList<>();
        for (String text : r.stringList(key)) {
            try {
                FencingEntry.parse(text)
                        .ifPresentOrElse(
                                methods::add,
                                () -> r.problem(
                                        key,
                                        "unknown fencing method \"" + text + "\"; expected " + FencingEntry.SPELLINGS));
            } catch (IllegalArgumentException e) {
                r.problem(key, e.getMessage());
            }
        }
        if (methods.isEmpty() && !r.hasProblem(key)) {
            r.problem(key, "must name at least one method (" + FencingEntry.SPELLINGS + "); the default is [ssh]");
        }
        return methods;
    }

    private ZkSettings zookeeper(ConfigReader r) {
        return new ZkSettings(
                r.requiredString(k("zookeeper.connect")).trim(),
                r.string(k("zookeeper.root")),
                r.positiveDuration(k("zookeeper.session-timeout")),
                r.positiveDuration(k("zookeeper.connection-timeout")),
                r.positiveDuration(k("zookeeper.self-fence-after")),
                r.enumValue(k("zookeeper.auth.scheme"), AuthScheme.class),
                r.string(k("zookeeper.auth.user")),
                r.secret(k("zookeeper.auth.password"), home),
                new ZkSettings.Sasl(
                        r.optionalPath(k("zookeeper.auth.jaas-file"), home),
                        r.string(k("zookeeper.auth.jaas-section")).trim(),
                        r.string(k("zookeeper.auth.kerberos-service-name")).trim()),
                r.enumValue(k("zookeeper.acl"), AclMode.class),
                new ZkSettings.Embedded(
                        r.string(k("zookeeper.embedded.bind")),
                        r.integer(k("zookeeper.embedded.port"), 1, 65535),
                        home.resolve(r.string(k("zookeeper.embedded.data-dir"))).normalize()),
                new ZkSettings.Client(
                        r.bool(k("zookeeper.client.secure")),
                        store(r, k("zookeeper.client.keystore")),
                        store(r, k("zookeeper.client.truststore")),
                        r.bool(k("zookeeper.client.hostname-verification"))));
    }

    /** A key or trust store; empty when its location is. Its password is read (and checked) either way. */
    private Optional<ZkSettings.Store> store(ConfigReader r, String key) {
        Optional<Path> location = r.optionalPath(key + ".location", home);
        Secret password = r.secret(key + ".password", home);
        Optional<StoreType> type = r.optionalString(key + ".type").flatMap(text -> {
            Optional<StoreType> parsed = Enums.parse(StoreType.class, text);
            if (parsed.isEmpty()) {
                r.problem(
                        key + ".type",
                        "bad value \"" + text + "\"; expected one of " + Enums.spellings(StoreType.class)
                                + ", or empty for the file name's");
            }
            return parsed;
        });
        return location.map(
                file -> new ZkSettings.Store(file, password, type.orElseGet(() -> StoreType.byFileName(file))));
    }

    private SchedulerSettings scheduler(ConfigReader r) {
        return new SchedulerSettings(
                r.enumValue(k("scheduler.mode"), SchedulerMode.class),
                r.requiredString(k("scheduler.start-command")),
                r.optionalString(k("scheduler.stop-command")),
                r.optionalString(k("scheduler.check-command")),
                r.requiredString(k("scheduler.process-pattern")),
                r.optionalString(k("scheduler.helper-pattern")),
                r.optionalPath(k("scheduler.pid-file"), home),
                r.optionalPath(k("scheduler.virtualenv"), home),
                r.stringMap(k("scheduler.environment")),
                r.positiveDuration(k("scheduler.check-interval")),
                r.positiveDuration(k("scheduler.start-timeout")),
                r.positiveDuration(k("scheduler.stop-timeout")),
                r.positiveDuration(k("scheduler.orphan-stop-timeout")),
                r.positiveDuration(k("scheduler.self-fence-stop-timeout")),
                r.optionalString(k("scheduler.deadman-timeout")).isEmpty()
                        ? Optional.empty()
                        : Optional.of(r.positiveDuration(k("scheduler.deadman-timeout"))),
                r.positiveDuration(k("scheduler.restart-sleep")),
                r.integer(k("scheduler.max-restarts-before-failover"), 1, 1000),
                r.bool(k("scheduler.stop-with-agent")),
                r.enumValue(k("scheduler.foreign"), ForeignScheduler.class),
                r.optionalPath(k("scheduler.watchdog.device"), home),
                new SchedulerSettings.Health(
                        r.optionalString(k("scheduler.health.url")),
                        r.enumValue(k("scheduler.health.format"), HealthFormat.class),
                        r.positiveDuration(k("scheduler.health.interval")),
                        r.positiveDuration(k("scheduler.health.timeout")),
                        r.positiveDuration(k("scheduler.health.unhealthy-after")),
                        r.optionalPath(k("scheduler.health.ca-file"), home)));
    }

    private SshSettings ssh(ConfigReader r) {
        String user = r.string(k("ssh.user"));
        int port = r.integer(k("ssh.port"), 1, 65535);
        var hosts = new java.util.LinkedHashMap<String, SshSettings.HostOverride>();
        if (r.has(k("ssh.hosts"))) {
            for (String node : r.objectAt(k("ssh.hosts")).root().keySet()) {
                String base = k("ssh.hosts") + "." + com.typesafe.config.ConfigUtil.quoteString(node);
                hosts.put(
                        node,
                        new SshSettings.HostOverride(
                                r.has(base + ".user") ? r.string(base + ".user") : user,
                                r.has(base + ".port") ? r.integer(base + ".port", 1, 65535) : port));
            }
        }
        Path userHome = Path.of(System.getProperty("user.home", "/"));
        return new SshSettings(
                r.bool(k("ssh.enabled")),
                user,
                port,
                r.stringList(k("ssh.identity-files")).stream()
                        .map(p -> home.resolve(p).normalize())
                        .toList(),
                r.secret(k("ssh.passphrase"), home),
                r.optionalPath(k("ssh.known-hosts"), home).orElse(userHome.resolve(".ssh/known_hosts")),
                r.enumValue(k("ssh.strict-host-key-checking"), HostKeyChecking.class),
                r.positiveDuration(k("ssh.connect-timeout")),
                r.positiveDuration(k("ssh.command-timeout")),
                r.positiveDuration(k("ssh.keepalive-interval")),
                hosts);
    }

    private AlertSettings alerts(ConfigReader r) {
        return new AlertSettings(
                r.integer(k("alerts.retry-count-before-alerting"), 1, 1000),
                r.bool(k("alerts.on-leadership-change")),
                new AlertSettings.Email(
                        r.bool(k("alerts.email.enabled")),
                        r.stringList(k("alerts.email.to")),
                        r.string(k("alerts.email.from")),
                        r.string(k("alerts.email.subject-prefix")),
                        r.positiveDuration(k("alerts.email.timeout")),
                        r.integer(k("alerts.email.max-per-hour"), 1, 10_000),
                        new AlertSettings.Smtp(
                                r.string(k("alerts.email.smtp.host")),
                                r.integer(k("alerts.email.smtp.port"), 1, 65535),
                                r.enumValue(k("alerts.email.smtp.transport"), SmtpTransport.class),
                                r.string(k("alerts.email.smtp.user")),
                                r.secret(k("alerts.email.smtp.password"), home))));
    }

    private static String k(String path) {
        return ROOT + "." + path;
    }

    private static InvalidConfigException single(String origin, String message) {
        return new InvalidConfigException(List.of(new ConfigProblem(origin, ROOT, message)));
    }

    private static String where(ConfigException e, String fallback) {
        return e.origin() == null ? fallback : ConfigReader.describe(e.origin());
    }

    /**
     * typesafe's syntax errors quote the offending token; when the offending line names a secret,
     * the token could be part of it, so the details are withheld.
     */
    private static String syntaxMessage(Path file, ConfigException.Parse e) {
        int line = e.origin() == null ? -1 : e.origin().lineNumber();
        try {
            List<String> lines = Files.readAllLines(file);
            if (line >= 1 && line <= lines.size()) {
                String text = lines.get(line - 1).toLowerCase(Locale.ROOT);
                if (text.contains("password") || text.contains("passphrase") || text.contains("secret")) {
                    return "syntax error (details withheld: the line holds a secret)";
                }
            }
        } catch (IOException ioe) {
            // the file was readable a moment ago; fall through to the generic message
        }
        String message = e.getMessage();
        int cut = message.indexOf(": ", message.indexOf(':') + 1);
        return "syntax error: " + (cut > 0 ? message.substring(cut + 2) : message);
    }
}
