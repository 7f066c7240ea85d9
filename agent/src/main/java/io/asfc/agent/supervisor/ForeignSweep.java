package io.asfc.agent.supervisor;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.Alerter;
import io.asfc.agent.events.EventLog;
import io.asfc.agent.metrics.Metrics;
import io.asfc.agent.supervisor.ForeignSchedulers.Foreign;
import io.asfc.agent.supervisor.ForeignSchedulers.Supervised;
import io.asfc.common.config.Modes.ForeignScheduler;
import io.asfc.common.config.SchedulerSettings;
import io.asfc.common.process.ProcessMatcher;
import io.asfc.common.process.ProcessOrigin;
import io.asfc.common.process.ProcessTable;
import io.asfc.common.process.TreeStopper;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code scheduler.foreign}: at each reconciliation, looks once at {@code /proc} for schedulers on
 * this host that asfc did not start ({@link ForeignSchedulers}) and stops them (SIGTERM, SIGKILL
 * after {@code self-fence-stop-timeout}: two schedulers break S1, so {@code check-interval +
 * self-fence-stop-timeout} bounds it, 6 s with the defaults; each process checked by pid and start time) or, with {@code alert},
 * only reports them, once per process; each is counted in {@code
 * asfc_foreign_schedulers_total{action="stopped|alerted"}}. Runs on the supervisor thread, so never during this agent's
 * own start or stop there; the caller skips it while the self-fence stops.
 */
final class ForeignSweep {
    private static final Logger LOG = LoggerFactory.getLogger(ForeignSweep.class);
    static final String EVENT = "foreign-scheduler";

    private final String nodeId;
    private final SchedulerSettings settings;
    private final SchedulerRunner runner;
    private final TreeStopper stopper;
    private final EventLog events;
    private final Alerter alerter;
    private final Metrics metrics;
    private final ProcessMatcher matcher;
    /** Pid and start time of those reported (left running, or not stopped at once): reported once. */
    private final Set<String> reported = new HashSet<>();

    ForeignSweep(
            String nodeId,
            SchedulerSettings settings,
            SchedulerRunner runner,
            TreeStopper stopper,
            EventLog events,
            Alerter alerter,
            Metrics metrics) {
        this.nodeId = nodeId;
        this.settings = settings;
        this.runner = runner;
        this.stopper = stopper;
        this.events = events;
        this.alerter = alerter;
        this.metrics = metrics;
        this.matcher = new ProcessMatcher(Pattern.compile(settings.processPattern()));
    }

    void sweep() throws InterruptedException {
        // Every process ForeignSchedulers.find can return has a command line that matches
        // process-pattern: when none on the host does, it finds none. So the command lines are read
        // first, and every process's stat only when one matches (the most of this thread's idle CPU
        // was reading /proc): same verdict, same check-interval.
        Optional<ProcessTable> snapshot = ProcessTable.snapshotIfAnyMatches(matcher.pattern());
        if (snapshot.isEmpty()) {
            reported.clear(); // as find() returning nothing would: none reported is running now
            return;
        }
        ProcessTable table = snapshot.get();
        Optional<Supervised> supervised = runner.supervised(table);
        if (supervised.isEmpty()) {
            return;
        }
        List<Foreign> found = ForeignSchedulers.find(
                table,
                matcher.pattern(),
                nodeId,
                supervised.get(),
                matcher.protectedPids(table, supervised.get().helpers()),
                p -> ProcessOrigin.of(p.pid()));
        reported.retainAll(found.stream().map(Foreign::key).collect(Collectors.toSet()));
        for (Foreign f : found) {
            if (settings.foreign() == ForeignScheduler.STOP && f.verified()) {
                stop(f);
            } else if (reported.add(f.key())) {
                report(f);
            }
        }
    }

    private void stop(Foreign f) throws InterruptedException {
        LOG.warn(
                "a scheduler this agent did not start runs on this host: {}; stopping its {} process(es)",
                f.describe(),
                f.tree().size());
        // a second scheduler breaks S1: the S1 kill clock, not the clean-shutdown one
        TreeStopper.Result result = stopper.stop(f.tree(), settings.selfFenceStopTimeout());
        if (!reported.add(f.key())) {
            return; // one that survived an earlier stop: tried again, reported once
        }
        String detail = nodeId + ": stopped a scheduler that asfc did not start, " + f.describe() + "; "
                + result.terminated() + " process(es) ended on SIGTERM, " + result.killed() + " killed"
                + (result.stopped() ? "" : "; still alive: " + result.survivors());
        events.record(EVENT, detail);
        metrics.foreignScheduler(true);
        alerter.raise(new Alert(
                AlertKind.FOREIGN_SCHEDULER,
                nodeId,
                "a scheduler that asfc did not start ran on " + nodeId + ": " + f.describe(),
                "stopped it (scheduler.foreign = stop): " + result.terminated() + " process(es) ended on SIGTERM, "
                        + result.killed() + " killed"));
    }

    private void report(Foreign f) {
        String why = f.verified()
                ? "left running (scheduler.foreign = alert)"
                : "left running: asfc cannot tell who started it (its environment is not readable, or this"
                        + " runner cannot tell its own scheduler from it)";
        LOG.warn("a scheduler this agent did not start runs on this host: {}; {}", f.describe(), why);
        events.record(EVENT, nodeId + ": found a scheduler that asfc did not start, " + f.describe() + "; " + why);
        metrics.foreignScheduler(false);
        alerter.raise(new Alert(
                AlertKind.FOREIGN_SCHEDULER,
                nodeId,
                "a scheduler that asfc did not start runs on " + nodeId + ": " + f.describe(),
                why));
    }
}
