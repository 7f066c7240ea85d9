package io.asfc.agent.hooks;

import io.asfc.agent.alerts.Alert;
import io.asfc.agent.alerts.AlertKind;
import io.asfc.agent.alerts.AlertListener;
import io.asfc.agent.metrics.Metrics;
import io.asfc.common.config.HookSettings;
import io.asfc.common.process.TreeStopper;
import io.asfc.common.zk.EventRecord;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.apache.curator.utils.CloseableUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where events and alerts leave the agent for the outside world: the event log hands
 * every event it records to {@link #onEvent}, the alerter every alert ({@link AlertListener}), and
 * each is queued for the configured sinks ({@code hooks.on-event}, {@code hooks.webhook}). Every
 * method returns at once and never throws, so a caller (the controller, the self-fence, Curator's
 * event thread) never waits on a hook.
 */
public final class Hooks implements AlertListener, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Hooks.class);

    private final String cluster;
    private final String nodeId;
    private final Supplier<OptionalLong> epoch;
    private final Clock clock;
    private final List<EventSink> sinks;

    Hooks(String cluster, String nodeId, Supplier<OptionalLong> epoch, Clock clock, List<EventSink> sinks) {
        this.cluster = cluster;
        this.nodeId = nodeId;
        this.epoch = epoch;
        this.clock = clock;
        this.sinks = List.copyOf(sinks);
    }

    /**
     * The hooks {@code settings} ask for: a command, a webhook, both or none.
     *
     * @param output where the command's output is appended
     * @param epoch the newest epoch this agent knows, read when an event happens
     */
    public static Hooks create(
            String cluster,
            String nodeId,
            HookSettings settings,
            Path output,
            Supplier<OptionalLong> epoch,
            Metrics metrics,
            Clock clock) {
        List<EventSink> sinks = new ArrayList<>();
        settings.onEvent().ifPresent(command -> {
            LOG.info("hooks.on-event runs on every event: {}", command);
            sinks.add(new CommandHook(
                    nodeId,
                    command,
                    settings.timeout(),
                    settings.queueSize(),
                    output,
                    new TreeStopper(System::nanoTime),
                    metrics));
        });
        if (settings.webhook().url().isPresent()) {
            LOG.info(
                    "hooks.webhook: every event is posted to {}",
                    settings.webhook().loggable());
            sinks.add(new Webhook(nodeId, settings.webhook(), metrics));
        }
        return new Hooks(cluster, nodeId, epoch, clock, sinks);
    }

    /** An event the event log recorded. */
    public void onEvent(EventRecord event) {
        fire(new HookEvent(event.type(), cluster, nodeId, event.detail(), epoch.get(), event.at(), null));
    }

    @Override
    public void raised(Alert alert) {
        String reason = (alert.what() + " " + alert.action()).trim();
        fire(new HookEvent(
                "alert", cluster, nodeId, reason, epoch.get(), clock.instant(), part(alert.kind(), alert.node())));
    }

    @Override
    public void recovered(AlertKind kind, String node, String what) {
        fire(new HookEvent("alert-recovered", cluster, nodeId, what, epoch.get(), clock.instant(), part(kind, node)));
    }

    private static HookEvent.AlertPart part(AlertKind kind, String node) {
        return new HookEvent.AlertPart(kind.name().toLowerCase(Locale.ROOT).replace('_', '-'), node);
    }

    private void fire(HookEvent event) {
        for (EventSink sink : sinks) {
            try {
                sink.offer(event);
            } catch (RuntimeException e) {
                LOG.warn("a hook could not take event {}", event.type(), e);
            }
        }
    }

    /** Gives each sink a short bound to finish what is queued; close it after the event log. */
    @Override
    public void close() {
        sinks.forEach(CloseableUtils::closeQuietly);
    }
}
