package io.asfc.agent.migration;

import static io.asfc.agent.migration.Source.FAILOVER;

import io.asfc.agent.migration.AirflowCfg.Entry;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code airflow_scheduler_start_command}, {@code airflow_scheduler_stop_command} and
 * {@code [webserver] base_url} → {@code asfc.scheduler}.
 *
 * <p>The mode follows from the start command. The shape the Python tool's {@code init} writes
 * ({@code export AIRFLOW_HOME=…;[source …/bin/activate];nohup airflow scheduler >> LOG &}) becomes
 * {@code mode = child} with {@code airflow scheduler}: asfc then sees a death at once and stops the
 * exact process tree. {@code nohup} and {@code &} only suited the Python tool, which ran the command
 * and moved on; in child mode a command that returns at once is a scheduler that died. Any other
 * command (systemctl, a script, {@code -D}) stays a command ({@code mode = command}), with its shell
 * mistakes repaired ({@link ShellFix}).
 */
final class SchedulerMapping {
    private static final String START = "airflow_scheduler_start_command";
    private static final String STOP = "airflow_scheduler_stop_command";
    private static final Pattern KILL = Pattern.compile("\\b(kill|pkill|killall)\\b");
    private static final Pattern SIGKILL = Pattern.compile("-9\\b|-(SIG)?KILL\\b|-s\\s*(SIG)?KILL\\b");
    private static final Pattern SUDO = Pattern.compile("(^|[\\s;&|])sudo\\s");
    private static final Pattern SYSTEMCTL = Pattern.compile("\\bsystemctl\\b");

    private final Source src;
    private final Hocon out;

    private SchedulerMapping(Source src, Hocon out) {
        this.src = src;
        this.out = out;
    }

    static void write(Source src, Hocon out) {
        new SchedulerMapping(src, out).write();
    }

    private void write() {
        out.open("scheduler");
        Optional<Entry> start = src.takeNonBlank(FAILOVER, START);
        Optional<PlainStart> plain = start.flatMap(e -> PlainStart.parse(e.value()));
        if (start.isEmpty()) {
            out.comment(START + " is not set: asfc runs \"airflow scheduler\" as its own child (mode = child).");
            out.set("mode", "child");
            out.set("start-command", Hocon.str("airflow scheduler"));
        } else if (plain.isPresent()) {
            child(start.get(), plain.get());
        } else {
            command(start.get());
        }
        out.blank();
        stop(plain.isPresent() || start.isEmpty());
        health();
        out.close();
    }

    private void child(Entry start, PlainStart plain) {
        out.quote(Source.from(FAILOVER, start));
        rawNote(start);
        out.comment("asfc runs the scheduler itself, as its own child (mode = child): it sees a death at once"
                + " and stops exactly the scheduler's process tree. Of the old command only \"" + plain.command()
                + "\" is kept:");
        if (ShellFix.fix(start.value()).droppedEmptyCommands()) {
            out.comment("- \";;\" dropped: an empty command is a syntax error to every shell (outside \"case\"),"
                    + " so this command, as written, never started a scheduler;");
        }
        if (!plain.environment().isEmpty()) {
            out.comment("- \"export …\" became environment;");
        }
        if (plain.virtualenv().isPresent()) {
            out.comment("- \"source …/bin/activate\" became virtualenv;");
        }
        if (plain.nohup() || plain.background()) {
            out.comment("- \"nohup\" and \"&\" dropped: they let the Python tool start the scheduler and move on."
                    + " In child mode a command that returns at once counts as a scheduler that died;");
        }
        plain.output()
                .ifPresent(
                        redirect -> out.comment("- \"" + Hocon.oneLine(redirect) + "\" dropped: the scheduler's output"
                                + " goes to $ASFC_LOG_DIR/scheduler-<node.id>.out (append the redirection to start-command to"
                                + " keep the old file)."));
        if (plain.command().startsWith("airflow ") && plain.virtualenv().isEmpty()) {
            out.comment("\"airflow\" must be on the agent's PATH (under systemd it is short): if it is not, set"
                    + " virtualenv or write its full path.");
        }
        out.set("mode", "child");
        out.set("start-command", Hocon.str(plain.command()));
        plain.virtualenv().ifPresent(v -> out.set("virtualenv", Hocon.str(v)));
        if (!plain.environment().isEmpty()) {
            out.open("environment");
            plain.environment().forEach((k, v) -> out.set(k, Hocon.str(v)));
            out.close();
        }
    }

    private void command(Entry start) {
        ShellFix.Result fixed = ShellFix.fix(start.value());
        out.quote(Source.from(FAILOVER, start));
        rawNote(start);
        out.comment("It stays a command (mode = command): it is not the plain \"airflow scheduler\" that asfc could"
                + " run as its child. asfc runs it detached, then tells whether a scheduler runs by process-pattern"
                + " (processes whose command line matches \"airflow (scheduler|executor)|airflow worker -- LocalExecutor\"), as"
                + " the Python tool did with ps -eaf | grep 'airflow scheduler'.");
        fixes(fixed);
        if (SUDO.matcher(start.value()).find()) {
            out.comment("It runs without a terminal (the Python tool gave sudo one with ssh -tt): sudo must not"
                    + " ask for a password here (NOPASSWD).");
        }
        if (SYSTEMCTL.matcher(start.value()).find()) {
            out.comment("Give the scheduler's systemd unit Restart=no: otherwise systemd restarts a scheduler that"
                    + " asfc stopped, and two schedulers run.");
        }
        out.set("mode", "command");
        out.set("start-command", Hocon.str(fixed.command()));
    }

    private void stop(boolean childMode) {
        Optional<Entry> stop = src.takeNonBlank(FAILOVER, STOP);
        if (stop.isEmpty()) {
            out.comment(STOP + " is not set: asfc stops the scheduler's process tree itself (SIGTERM, then"
                    + " SIGKILL after stop-timeout).");
            out.set("stop-command", Hocon.str(""));
            out.blank();
            return;
        }
        // the Python tool read "\;" as ";" in this key (a Python 2 configparser work-around)
        String command = stop.get().value().replace("\\;", ";");
        out.quote(Source.from(FAILOVER, stop.get()));
        if (KILL.matcher(command).find()) {
            boolean sigkill = SIGKILL.matcher(command).find();
            String how = command.contains("grep") && command.contains("airflow scheduler")
                    ? "it killed " + (sigkill ? "with kill -9 " : "")
                            + "every process whose command line contains \"airflow scheduler\", its own shell"
                            + " included (that shell's command line holds the same words)"
                    : "it kills by pattern" + (sigkill ? " with SIGKILL" : "")
                            + ", which can hit the shell that runs it";
            out.comment("Not used: " + how + ", and " + (sigkill ? "gave" : "may give")
                    + " the scheduler no chance to finish cleanly. stop-command stays empty: asfc stops the"
                    + " scheduler's process tree instead, SIGTERM first, then SIGKILL after stop-timeout (30s).");
            out.set("stop-command", Hocon.str(""));
        } else if (childMode) {
            out.comment("Not used: in child mode asfc stops the scheduler it started itself (its whole process tree:"
                    + " SIGTERM, then SIGKILL after stop-timeout); a stop-command applies only in command mode.");
            out.set("stop-command", Hocon.str(""));
        } else {
            ShellFix.Result fixed = ShellFix.fix(command);
            out.comment("asfc runs it (for at most stop-timeout, 30s), then stops whatever still matches"
                    + " process-pattern as a process tree.");
            if (!command.equals(stop.get().value())) {
                out.comment("\"\\;\" is read as \";\", as the Python tool read it.");
            }
            fixes(fixed);
            out.set("stop-command", Hocon.str(fixed.command()));
        }
        out.blank();
    }

    private void health() {
        Optional<Entry> baseUrl = src.takeNonBlank("webserver", "base_url");
        if (baseUrl.isEmpty()) {
            out.comment("[webserver] base_url is not set: no health check (see scheduler.health in reference.conf).");
            return;
        }
        String url;
        try {
            url = src.cfg().interpolated("webserver", "base_url").orElseThrow().strip();
            URI uri = new URI(url);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                src.notMapped("webserver", baseUrl.get(), "not an http:// or https:// URL, so no health check");
                return;
            }
        } catch (AirflowCfg.BadInterpolation | URISyntaxException e) {
            src.notMapped("webserver", baseUrl.get(), e.getMessage() + "; so no health check");
            return;
        }
        out.open("health");
        out.quote(Source.from("webserver", baseUrl.get()));
        out.comment("The Python tool asked the webserver's /health whether the scheduler is healthy; so does asfc."
                + " Two differences: the webserver reports the newest scheduler heartbeat in the database, from any"
                + " host; and asfc counts an unreachable webserver as unhealthy, so a webserver that is down for"
                + " longer than unhealthy-after (60s) gets the scheduler restarted, where the Python tool only"
                + " logged it. Better: the scheduler's own health server ([scheduler] enable_health_check = True),"
                + " url = \"http://localhost:8974/health\" with format = status-code. Airflow 3 serves the"
                + " webserver's check at /api/v2/monitor/health.");
        out.set("url", Hocon.str(url.replaceAll("/+$", "") + "/health"));
        out.set("format", "airflow-json");
        out.close();
    }

    private void fixes(ShellFix.Result fixed) {
        if (fixed.droppedEmptyCommands()) {
            out.comment("Fixed: an empty command (\";;\", or \";\" after \"&\") removed; it is a syntax error to"
                    + " every shell outside \"case\", so the command, as written, never ran.");
        }
        if (fixed.sourceToDot()) {
            out.comment("Fixed: \"source\" became \".\": asfc runs commands with /bin/sh, which has no \"source\""
                    + " on Debian and Ubuntu (dash).");
        }
    }

    /** The Python tool read this section without %-interpolation; asfc keeps the value as it ran it. */
    private void rawNote(Entry e) {
        if (e.value().contains("%%")) {
            out.comment("\"%%\" is kept as it is: the Python tool read this key without %-interpolation, so the"
                    + " shell got \"%%\". If you doubled a % only for Airflow's sake, write a single % here.");
        }
    }
}
