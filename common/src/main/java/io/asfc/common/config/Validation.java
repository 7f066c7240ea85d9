package io.asfc.common.config;

import io.asfc.common.config.Modes.AclMode;
import io.asfc.common.zk.Names;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.zookeeper.common.PathUtils;

/** Checks that span several keys, or the shape of a value beyond its type. */
final class Validation {
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]{2,45}");

    /** A plain address, local@domain: dot-atoms (RFC 5322) and host name labels; no display name. */
    private static final Pattern EMAIL =
            Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    + "@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /** An address with a display name: {@code Airflow <ops@example.com>}; group 1 is the address. */
    private static final Pattern NAMED = Pattern.compile("[^<>\"]*<([^<>]+)>\\s*");

    /** An HTTP header name: an RFC 9110 token. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    /** Headers the JDK's HTTP client sets itself and refuses from callers (lower case). */
    private static final Set<String> RESERVED_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade");

    private Validation() {}

    static AsfcSettings check(ConfigReader r, AsfcSettings s) {
        name(r, "asfc.cluster", s.cluster());
        name(r, "asfc.node.id", s.nodeId());
        nodes(r, s);
        zookeeper(r, s.zookeeper());
        scheduler(r, s.scheduler());
        quarantine(r, s.controller());
        email(r, s.alerts().email());
        hooks(r, s.hooks());
        return s;
    }

    private static void quarantine(ConfigReader r, ControllerSettings c) {
        if (c.quarantineBackoff() != null
                && c.maxQuarantineBackoff() != null
                && c.maxQuarantineBackoff().compareTo(c.quarantineBackoff()) < 0
                && !r.hasProblem("asfc.controller.quarantine-backoff", "asfc.controller.max-quarantine-backoff")) {
            r.problem(
                    "asfc.controller.max-quarantine-backoff",
                    "(" + c.maxQuarantineBackoff() + ") must not be shorter than quarantine-backoff ("
                            + c.quarantineBackoff() + ")");
        }
    }

    private static void email(ConfigReader r, AlertSettings.Email mail) {
        if (!mail.enabled()) {
            return;
        }
        if (mail.to().isEmpty() && !r.hasProblem("asfc.alerts.email.to")) {
            r.problem("asfc.alerts.email.to", "must name at least one recipient when email is enabled");
        }
        for (String to : mail.to()) {
            address(r, "asfc.alerts.email.to", to);
        }
        if (mail.from().isBlank()) {
            r.problem("asfc.alerts.email.from", "is required when email is enabled");
        } else {
            address(r, "asfc.alerts.email.from", mail.from());
        }
        if (mail.smtp().host().isBlank()) {
            r.problem("asfc.alerts.email.smtp.host", "is required when email is enabled");
        }
        if (!r.hasProblem("asfc.alerts.email.smtp.password", "asfc.alerts.email.smtp.password-file")) {
            if (mail.smtp().user().isBlank() && !mail.smtp().password().isEmpty()) {
                r.problem("asfc.alerts.email.smtp.password", "is set, so smtp.user is required too");
            }
            if (!mail.smtp().user().isBlank() && mail.smtp().password().isEmpty()) {
                r.problem("asfc.alerts.email.smtp.password", "is required when smtp.user is set");
            }
        }
    }

    private static void address(ConfigReader r, String key, String address) {
        Matcher named = NAMED.matcher(address);
        String bare = named.matches() ? named.group(1) : address;
        if (!EMAIL.matcher(bare).matches()) {
            r.problem(
                    key,
                    "\"" + address + "\" is not a valid e-mail address (expected e.g. ops@example.com or"
                            + " \"Airflow <ops@example.com>\")");
        }
    }

    private static void nodes(ConfigReader r, AsfcSettings s) {
        Set<String> seen = new HashSet<>();
        for (String node : s.nodes()) {
            name(r, "asfc.nodes", node);
            if (!seen.add(node)) {
                r.problem("asfc.nodes", "lists \"" + node + "\" twice");
            }
        }
        if (!r.hasProblem("asfc.nodes", "asfc.node.id")
                && !s.nodes().isEmpty()
                && !s.nodes().contains(s.nodeId())) {
            r.problem(
                    r.has("asfc.node.id") ? "asfc.node.id" : "asfc.nodes",
                    "node.id \"" + s.nodeId() + "\" is not in nodes " + s.nodes()
                            + "; set asfc.node.id to one of them");
        }
        s.nodeHosts().forEach((node, host) -> {
            if (!HOST.matcher(host).matches()) {
                r.problem("asfc.node-hosts." + node, "\"" + host + "\" is not a valid host name or address");
            }
            if (!s.nodes().isEmpty() && !s.nodes().contains(node)) {
                r.problem("asfc.node-hosts." + node, "names a node that is not in nodes " + s.nodes());
            }
        });
        for (String node : s.agentlessNodes()) {
            if (!s.nodes().contains(node)) {
                r.problem("asfc.agentless-nodes", "names \"" + node + "\", which is not in nodes " + s.nodes());
            } else if (node.equals(s.nodeId())) {
                r.problem(
                        "asfc.agentless-nodes",
                        "names this agent's own node \"" + node + "\"; a node with an agent is not agentless");
            }
        }
        if (s.ssh().enabled()) {
            for (var key : s.ssh().identityFiles()) {
                if (!Files.isReadable(key)) {
                    r.problem("asfc.ssh.identity-files", key + " does not exist or is not readable");
                }
            }
        }
        if (!s.agentlessNodes().isEmpty() && !s.ssh().enabled()) {
            r.problem("asfc.agentless-nodes", "needs asfc.ssh.enabled = true: agentless nodes are run over SSH");
        }
        s.ssh().hosts().keySet().stream()
                .filter(node -> !s.nodes().isEmpty() && !s.nodes().contains(node))
                .forEach(node -> r.problem("asfc.ssh.hosts", "names \"" + node + "\", which is not in nodes"));
    }

    private static void zookeeper(ConfigReader r, ZkSettings zk) {
        try {
            PathUtils.validatePath(zk.root());
        } catch (IllegalArgumentException e) {
            r.problem("asfc.zookeeper.root", "\"" + zk.root() + "\" is not a valid znode path: " + e.getMessage());
        }
        if (!r.hasProblem("asfc.zookeeper.self-fence-after", "asfc.zookeeper.session-timeout")
                && zk.selfFenceAfter().compareTo(zk.sessionTimeout()) >= 0) {
            r.problem(
                    "asfc.zookeeper.self-fence-after",
                    "must be shorter than session-timeout ("
                            + zk.sessionTimeout().toMillis()
                            + "ms), so a cut-off host stops its scheduler before another host may take over");
        }
        if (zk.acl() == AclMode.CREATOR && !zk.hasAuth() && !r.hasProblem("asfc.zookeeper.auth.scheme")) {
            r.problem(
                    "asfc.zookeeper.acl", "creator needs asfc.zookeeper.auth.user and password, or auth.scheme = sasl");
        }
        JaasCheck.check(r, zk);
        if (!zk.isSasl()
                && zk.hasAuth()
                && zk.authPassword().isEmpty()
                && !r.hasProblem("asfc.zookeeper.auth.password", "asfc.zookeeper.auth.password-file")) {
            r.problem("asfc.zookeeper.auth.password", "is required when auth.user is set");
        }
        TlsStores.check(r, zk);
    }

    private static void regex(ConfigReader r, String key, String regex) {
        try {
            Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            r.problem(key, "is not a valid regular expression: " + e.getDescription());
        }
    }

    private static void scheduler(ConfigReader r, SchedulerSettings sched) {
        regex(r, "asfc.scheduler.process-pattern", sched.processPattern());
        if (sched.mode() == Modes.SchedulerMode.COMMAND && sched.stopWithAgent()) {
            io.asfc.common.process.PosixEre.Result ere = io.asfc.common.process.PosixEre.of(sched.processPattern());
            if (ere.ere().isEmpty()) {
                r.problem(
                        "asfc.scheduler.process-pattern",
                        ere.problem() + "; in command mode with stop-with-agent the on-host deadman (a shell) matches"
                                + " it: write it in the common subset (or set stop-with-agent = false)");
            }
        }
        sched.helperPattern().ifPresent(helpers -> regex(r, "asfc.scheduler.helper-pattern", helpers));
        sched.watchdogDevice().ifPresent(device -> {
            String key = "asfc.scheduler.watchdog.device";
            if (!sched.stopWithAgent()) {
                r.problem(key, "needs stop-with-agent = true: the on-host deadman is what feeds it");
            }
            WatchdogDevice.problem(device).ifPresent(problem -> r.problem(key, problem));
        });
        sched.health().caFile().ifPresent(file -> {
            if (!Files.isReadable(file)) {
                r.problem("asfc.scheduler.health.ca-file", file + " does not exist or is not readable");
            }
        });
        sched.health().url().ifPresent(url -> {
            try {
                URI uri = new URI(url);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    r.problem("asfc.scheduler.health.url", "must be an http:// or https:// URL, not \"" + url + "\"");
                }
            } catch (URISyntaxException e) {
                r.problem("asfc.scheduler.health.url", "is not a valid URL: " + e.getReason());
            }
        });
    }

    private static void hooks(ConfigReader r, HookSettings hooks) {
        HookSettings.Webhook webhook = hooks.webhook();
        webhook.url().ifPresent(url -> {
            boolean http = "http".equalsIgnoreCase(url.getScheme()) || "https".equalsIgnoreCase(url.getScheme());
            if (!http || url.getHost() == null) {
                r.problem(
                        "asfc.hooks.webhook.url",
                        "must be an http:// or https:// URL with a host (value not shown: it may hold a secret)");
            }
        });
        for (String header : webhook.headers().keySet()) {
            String key = "asfc.hooks.webhook.headers." + header;
            if (!HEADER_NAME.matcher(header).matches()) {
                r.problem(key, "is not a valid HTTP header name");
            } else if (RESERVED_HEADERS.contains(header.toLowerCase(java.util.Locale.ROOT))) {
                r.problem(key, "is set by the HTTP client itself; it cannot be configured");
            }
        }
        if (!r.hasProblem("asfc.hooks.webhook.retry-backoff", "asfc.hooks.webhook.max-retry-backoff")
                && webhook.maxRetryBackoff().compareTo(webhook.retryBackoff()) < 0) {
            r.problem(
                    "asfc.hooks.webhook.max-retry-backoff",
                    "(" + webhook.maxRetryBackoff() + ") must not be shorter than retry-backoff ("
                            + webhook.retryBackoff() + ")");
        }
    }

    private static void name(ConfigReader r, String key, String value) {
        if (!Names.isValid(value)) {
            r.problem(
                    key,
                    "\"" + value + "\" is not a valid name (letters, digits, '.', '_' and '-'; "
                            + "starting with a letter or digit)");
        }
    }
}
