package io.asfc.agent.migration;

import io.asfc.agent.migration.AirflowCfg.Entry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The airflow.cfg being imported, seen by the mappings: it remembers which keys were used, renders
 * the "from" comments, and collects the NOT MAPPED notes. A secret's value is never rendered.
 */
final class Source {
    static final String FAILOVER = "scheduler_failover";
    private static final Pattern SECRET = Pattern.compile("pass|secret|token|crypt|credential|_key$");

    private final AirflowCfg cfg;
    private final Set<String> used = new HashSet<>();
    private final List<String> notMapped = new ArrayList<>();

    Source(AirflowCfg cfg) {
        this.cfg = cfg;
    }

    AirflowCfg cfg() {
        return cfg;
    }

    /** The entry, marked as used; empty when the key is absent. */
    Optional<Entry> take(String section, String key) {
        used.add(section + "." + key);
        return cfg.raw(section, key);
    }

    /** Like {@link #take}, but a blank value counts as absent. */
    Optional<Entry> takeNonBlank(String section, String key) {
        return take(section, key).filter(e -> !e.value().isBlank());
    }

    boolean isUsed(String section, String key) {
        return used.contains(section + "." + key);
    }

    /** {@code from [section] key = value}, for the comment above the setting it became. */
    static String from(String section, Entry e) {
        return "from [" + section + "] " + e.key() + " = " + shown(e.key(), e.value());
    }

    void notMapped(String section, Entry e, String why) {
        notMapped.add("NOT MAPPED: " + label(section, e.key()) + " = " + shown(e.key(), e.value()) + " — " + why);
    }

    List<String> notMapped() {
        return List.copyOf(notMapped);
    }

    static boolean isSecret(String key) {
        return SECRET.matcher(key.toLowerCase(Locale.ROOT)).find();
    }

    private static String shown(String key, String value) {
        return isSecret(key) ? "****** (a secret: value not shown)" : Hocon.oneLine(value);
    }

    private static String label(String section, String key) {
        return section.equals(FAILOVER) ? key : "[" + section + "] " + key;
    }
}
