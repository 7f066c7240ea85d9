package io.asfc.agent.cli;

import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.config.FencingEntry;
import io.asfc.common.config.Modes;
import io.asfc.common.config.SecretFiles;
import io.asfc.common.config.WatchdogDevice;
import io.asfc.common.config.ZkSettings;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "check-config",
        description = {
            "Validate the config and print the effective settings.",
            "Secrets are masked. Every problem is listed with its key and file:line; exit code 78 when there is any.",
            "Warns (on standard error) about key and password files that group or others may read."
        })
final class CheckConfigCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        AsfcSettings s = cli.agentSettings();
        PrintWriter out = spec.commandLine().getOut();
        out.println("configuration OK: " + s.source());
        row(out, "cluster", s.cluster());
        row(out, "node.id", s.nodeId());
        row(out, "nodes", s.nodes().isEmpty() ? "(any live agent)" : String.join(", ", s.nodes()));
        ZkSettings zk = s.zookeeper();
        row(
                out,
                "zookeeper",
                (zk.isEmbedded() ? "embedded on " + zk.effectiveConnect() + " (NOT highly available)" : zk.connect())
                        + ", root " + zk.root());
        row(
                out,
                "timeouts",
                "session " + human(zk.sessionTimeout()) + ", self-fence after " + human(zk.selfFenceAfter())
                        + ", connect " + human(zk.connectionTimeout()));
        row(out, "zookeeper tls", tls(zk.client()));
        row(
                out,
                "zookeeper auth",
                zk.isSasl()
                        ? "sasl, JAAS section " + zk.sasl().section() + " of "
                                + zk.sasl().jaasFile().map(Object::toString).orElse("?")
                        : zk.hasAuth() ? "digest " + zk.authUser() + " / " + zk.authPassword() : "none");
        row(
                out,
                "scheduler",
                s.scheduler().mode().name().toLowerCase() + ": " + s.scheduler().startCommand());
        row(
                out,
                "ssh",
                s.ssh().user() + "@<node>:" + s.ssh().port() + ", host keys "
                        + s.ssh().strictHostKeyChecking().name().toLowerCase().replace('_', '-')
                        + (s.ssh().passphrase().isEmpty()
                                ? ""
                                : ", passphrase " + s.ssh().passphrase()));
        List<FencingEntry> fencing = s.controller().fencing();
        row(
                out,
                "fencing",
                IntStream.range(0, fencing.size())
                                .mapToObj(i -> fencing.get(i).label(i + 1))
                                .collect(Collectors.joining(", "))
                        + "; a shell method may run " + human(s.controller().fencingTimeout())
                        + (s.ssh().enabled() ? "" : " (ssh is skipped: ssh.enabled = false)"));
        row(
                out,
                "failback",
                s.controller().failback() == Modes.Failback.OFF
                        ? "off"
                        : "to "
                                + (s.nodes().isEmpty()
                                        ? "(none: nodes is empty)"
                                        : s.nodes().get(0)) + " after "
                                + human(s.controller().failbackAfter()) + " healthy");
        AlertSettings.Email mail = s.alerts().email();
        row(
                out,
                "email alerts",
                !mail.enabled()
                        ? "disabled"
                        : "to " + mail.to() + " via " + mail.smtp().host() + ":"
                                + mail.smtp().port() + " ("
                                + mail.smtp().transport() + ")"
                                + (mail.smtp().user().isEmpty()
                                        ? ""
                                        : ", user " + mail.smtp().user() + " / "
                                                + mail.smtp().password()));
        row(
                out,
                "http",
                !s.http().enabled()
                        ? "disabled"
                        : "http://" + s.http().bind() + ":"
                                + (s.http().port() == 0
                                        ? "<any free port>"
                                        : s.http().port())
                                + " (/health, /status, /metrics)");
        PrintWriter err = spec.commandLine().getErr();
        s.scheduler()
                .watchdogDevice()
                .ifPresentOrElse(
                        device -> {
                            Optional<Duration> timeout = WatchdogDevice.timeout(device, cli.sysfs());
                            boolean nowayout =
                                    WatchdogDevice.nowayout(device, cli.sysfs()).orElse(false);
                            row(
                                    out,
                                    "watchdog",
                                    device + ", timeout "
                                            + timeout.map(CheckConfigCommand::human)
                                                    .orElse("unknown")
                                            + (nowayout ? ", nowayout" : ""));
                            WatchdogDevice.nowayoutWarning(device, cli.sysfs())
                                    .ifPresent(warning -> err.println("asfc-agent: warning: " + warning));
                            if (timeout.isEmpty()) {
                                err.println("asfc-agent: warning: cannot read the timeout of watchdog.device " + device
                                        + " (no /sys/class/watchdog entry): make sure deadman-timeout + its timeout < "
                                        + "session-timeout + takeover-grace, or a frozen host may be reset too late");
                            }
                        },
                        () -> row(out, "watchdog", "off"));
        SecretFiles.permissionWarnings(s).forEach(warning -> err.println("asfc-agent: warning: " + warning));
        return ExitCode.OK.code();
    }

    private static String tls(ZkSettings.Client tls) {
        if (!tls.secure()) {
            return "off";
        }
        return "on, truststore "
                + tls.truststore().map(CheckConfigCommand::store).orElse("-") + ", "
                + tls.keystore().map(s -> "keystore " + store(s)).orElse("no client certificate")
                + ", hostname verification " + (tls.hostnameVerification() ? "on" : "off");
    }

    private static String store(ZkSettings.Store store) {
        return store.location() + " (" + store.type().name().toLowerCase(Locale.ROOT) + ")";
    }

    private static void row(PrintWriter out, String key, String value) {
        out.printf("  %-15s %s%n", key, value);
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
