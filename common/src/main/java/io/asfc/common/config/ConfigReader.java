package io.asfc.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads typed values from a resolved config and collects every problem instead of stopping at the
 * first, so that the user sees them all at once. A value that has a problem reads as a harmless
 * placeholder; callers check {@link #problems()} before using the result.
 */
final class ConfigReader {
    private final Config config;
    private final Config user;
    private final String fileOrigin;
    private final List<ConfigProblem> problems = new ArrayList<>();

    /**
     * @param config the user's file over {@code reference.conf}, resolved: what is read
     * @param user the user's file alone, resolved: where problems point
     * @param fileOrigin the user's file, for a problem that no line of it is the place of
     */
    ConfigReader(Config config, Config user, String fileOrigin) {
        this.config = config;
        this.user = user;
        this.fileOrigin = fileOrigin;
    }

    List<ConfigProblem> problems() {
        return problems;
    }

    void problem(String path, String message) {
        problems.add(new ConfigProblem(originOf(path), path, message));
    }

    /** Whether any of these keys already has a problem; checks that combine keys skip then. */
    boolean hasProblem(String... paths) {
        List<String> keys = List.of(paths);
        return problems.stream().anyMatch(p -> keys.contains(p.key()));
    }

    boolean has(String path) {
        return config.hasPath(path);
    }

    String string(String path) {
        return read(path, "a string", "", () -> config.getString(path));
    }

    String requiredString(String path) {
        if (!config.hasPath(path)) {
            problem(path, "is required but not set");
            return "";
        }
        String value = string(path);
        if (value.isBlank() && typeOf(path) == ConfigValueType.STRING) {
            problem(path, "is required but empty");
        }
        return value;
    }

    Optional<String> optionalString(String path) {
        if (!config.hasPath(path)) {
            return Optional.empty();
        }
        String value = string(path).trim();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    Optional<Path> optionalPath(String path, Path base) {
        return optionalString(path).map(p -> base.resolve(p).normalize());
    }

    /**
     * A secret given either as {@code path} itself (in the file or through {@code ${?VAR}}) or in the
     * file named by the sibling key {@code path-file}, resolved against {@code base}. The file's
     * content is the secret, less one trailing line break. Setting both is a problem.
     */
    Secret secret(String path, Path base) {
        Secret inline = inlineSecret(path);
        String fileKey = path + "-file";
        Optional<Path> file = optionalPath(fileKey, base);
        if (file.isEmpty()) {
            return inline;
        }
        if (!inline.isEmpty()) {
            problem(
                    fileKey,
                    "is set, and so is " + path + " (" + originOf(path) + ", or its environment variable);"
                            + " set only one of them");
            return inline;
        }
        try {
            return Secret.fromFile(SecretFile.read(file.get()), file.get());
        } catch (SecretFile.UnreadableException e) {
            problem(fileKey, e.getMessage());
            return Secret.empty();
        }
    }

    private Secret inlineSecret(String path) {
        if (!config.hasPath(path)) {
            return Secret.empty();
        }
        if (typeOf(path) != ConfigValueType.STRING) {
            // Never echo the value: typesafe's own message is avoided on purpose.
            problem(path, "must be a string (value not shown: it is a secret)");
            return Secret.empty();
        }
        return Secret.of(config.getString(path));
    }

    boolean bool(String path) {
        return read(path, "true or false", false, () -> config.getBoolean(path));
    }

    int integer(String path, int min, int max) {
        int value = read(path, "a whole number", min, () -> config.getInt(path));
        if (value < min || value > max) {
            problem(path, "must be between " + min + " and " + max + ", not " + value);
            return min;
        }
        return value;
    }

    Duration positiveDuration(String path) {
        if (!config.hasPath(path)) {
            problem(path, "is required but not set");
            return Duration.ofSeconds(1);
        }
        try {
            Duration value = config.getDuration(path);
            if (value.isNegative() || value.isZero()) {
                problem(path, "must be a positive duration, not " + render(path));
                return Duration.ofSeconds(1);
            }
            return value;
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            problem(path, "bad duration " + render(path) + " (use e.g. 500ms, 10s, 2m)");
            return Duration.ofSeconds(1);
        }
    }

    <E extends Enum<E>> E enumValue(String path, Class<E> type) {
        E fallback = type.getEnumConstants()[0];
        String text = string(path);
        if (!config.hasPath(path) || typeOf(path) != ConfigValueType.STRING) {
            return fallback;
        }
        Optional<E> value = Enums.parse(type, text);
        if (value.isEmpty()) {
            problem(path, "bad value \"" + text + "\"; expected one of " + Enums.spellings(type));
        }
        return value.orElse(fallback);
    }

    List<String> stringList(String path) {
        return read(path, "a list of strings", List.of(), () -> List.copyOf(config.getStringList(path)));
    }

    /** An object whose values are all strings, e.g. {@code environment { AIRFLOW_HOME = "/x" }}. */
    Map<String, String> stringMap(String path) {
        Map<String, String> result = new LinkedHashMap<>();
        if (!config.hasPath(path)) {
            return result;
        }
        if (typeOf(path) != ConfigValueType.OBJECT) {
            problem(path, "must be an object of strings, e.g. { KEY = \"value\" }");
            return result;
        }
        for (Map.Entry<String, ConfigValue> e : config.getObject(path).entrySet()) {
            ConfigValue v = e.getValue();
            if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
                problems.add(new ConfigProblem(
                        originOf(path + "." + ConfigUtil.quoteString(e.getKey())),
                        path + "." + e.getKey(),
                        "must be a string"));
            } else {
                result.put(e.getKey(), String.valueOf(v.unwrapped()));
            }
        }
        return result;
    }

    Config objectAt(String path) {
        return config.getConfig(path);
    }

    /**
     * Where the user set {@code path}: its line in the user's file; for a key the file leaves at its
     * default, the line of the nearest enclosing block the file sets (e.g. {@code email { enabled = true }}
     * when {@code email.to} is missing), else the file itself. Never a line of {@code reference.conf}
     * inside the jar, which the user cannot edit.
     */
    String originOf(String path) {
        List<String> parts = new ArrayList<>(ConfigUtil.splitPath(path));
        for (; !parts.isEmpty(); parts.remove(parts.size() - 1)) {
            String candidate = ConfigUtil.joinPath(parts);
            try {
                if (user.hasPathOrNull(candidate)) {
                    return describe(user.getValue(candidate).origin());
                }
            } catch (ConfigException e) {
                // the path runs through a non-object in the user's file; try the enclosing key
            }
        }
        return fileOrigin;
    }

    static String describe(ConfigOrigin origin) {
        String where = origin.filename() != null
                ? origin.filename()
                : origin.resource() != null ? origin.resource() : origin.description();
        return origin.lineNumber() >= 0 ? where + ":" + origin.lineNumber() : where;
    }

    private ConfigValueType typeOf(String path) {
        return config.getValue(path).valueType();
    }

    private String render(String path) {
        return "\"" + config.getValue(path).unwrapped() + "\"";
    }

    private <T> T read(String path, String expected, T fallback, java.util.function.Supplier<T> getter) {
        if (!config.hasPath(path)) {
            problem(path, "is required but not set");
            return fallback;
        }
        try {
            return getter.get();
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            problem(path, "must be " + expected);
            return fallback;
        }
    }
}
