package io.asfc.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Finds keys in the user's config that asfc does not know, with a "did you mean" hint for typos. */
final class UnknownKeys {
    /** Objects whose keys are chosen by the user. */
    private static final Set<String> FREE_MAPS =
            Set.of("asfc.scheduler.environment", "asfc.node-hosts", "asfc.ssh.hosts", "asfc.hooks.webhook.headers");

    private static final Set<String> SSH_HOST_KEYS = Set.of("user", "port");

    private UnknownKeys() {}

    static List<ConfigProblem> find(Config user, Config reference) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> entry : user.entrySet()) {
            String key = entry.getKey();
            if (!isKnown(key, reference)) {
                String hint = suggestion(key, reference)
                        .map(s -> " (did you mean '" + s + "'?)")
                        .orElse("");
                problems.add(
                        new ConfigProblem(ConfigReader.describe(entry.getValue().origin()), key, "unknown key" + hint));
            }
        }
        return problems;
    }

    private static boolean isKnown(String key, Config reference) {
        if (reference.hasPathOrNull(key)) {
            return true;
        }
        List<String> parts = ConfigUtil.splitPath(key);
        for (int i = 1; i < parts.size(); i++) {
            String prefix = ConfigUtil.joinPath(parts.subList(0, i));
            if (reference.hasPath(prefix) && reference.getValue(prefix).valueType() != ConfigValueType.OBJECT) {
                return true; // an object where a value belongs: reported as a type problem of the value
            }
        }
        for (String map : FREE_MAPS) {
            List<String> mapParts = ConfigUtil.splitPath(map);
            if (parts.size() > mapParts.size()
                    && parts.subList(0, mapParts.size()).equals(mapParts)) {
                int extra = parts.size() - mapParts.size();
                if (map.equals("asfc.ssh.hosts")) {
                    return extra == 2 && SSH_HOST_KEYS.contains(parts.get(parts.size() - 1));
                }
                return extra == 1;
            }
        }
        return false;
    }

    private static java.util.Optional<String> suggestion(String key, Config reference) {
        List<String> parts = ConfigUtil.splitPath(key);
        String leaf = parts.get(parts.size() - 1);
        List<String> known = new ArrayList<>();
        if (parts.size() == 1) {
            known.addAll(reference.root().keySet());
        } else {
            String parent = ConfigUtil.joinPath(parts.subList(0, parts.size() - 1));
            if (reference.hasPath(parent)) {
                try {
                    known.addAll(reference.getObject(parent).keySet());
                } catch (com.typesafe.config.ConfigException.WrongType e) {
                    return java.util.Optional.empty(); // the parent is a value, not a section
                }
            }
        }
        return known.stream()
                .filter(k -> distance(k, leaf) <= Math.max(1, Math.min(3, leaf.length() / 3)))
                .min((a, b) -> Integer.compare(distance(a, leaf), distance(b, leaf)));
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
