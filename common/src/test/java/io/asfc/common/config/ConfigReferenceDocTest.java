package io.asfc.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/CONFIGURATION.md} in step with {@code reference.conf}: the document is rendered
 * from the file (every key, its default, its comment) and must equal what is checked in, up to the
 * {@link #HAND_WRITTEN} line; what follows that line is written by hand and kept.
 */
class ConfigReferenceDocTest {
    static final Path DOC = Path.of(System.getProperty("user.dir"))
            .resolve("../docs/CONFIGURATION.md")
            .normalize();
    static final String REGENERATE = "mvn -B -pl common test -Dtest=ConfigReferenceDocTest -Dasfc.docs.write=true";
    /** What an environment override resolves to here: {@code ${NAME}}, so the table can name it. */
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    /**
     * The line after which the document is written by hand (guides such as SASL and Kerberos); the
     * generator keeps everything from it on, and renders only what comes before.
     */
    static final String HAND_WRITTEN =
            "<!-- Written by hand from here on: regenerating keeps the rest of this file. -->";

    @Test
    void configurationReferenceMatchesReferenceConf() throws IOException {
        String checkedIn = Files.exists(DOC) ? Files.readString(DOC) : "";
        int handWritten = checkedIn.indexOf(HAND_WRITTEN);
        String document = render() + (handWritten < 0 ? "" : "\n" + checkedIn.substring(handWritten));
        if (Boolean.getBoolean("asfc.docs.write")) {
            Files.writeString(DOC, document);
            checkedIn = document;
        }
        assertEquals(
                document, checkedIn, DOC + " is out of date with reference.conf; regenerate it with: " + REGENERATE);
    }

    static String render() {
        ConfigParseOptions parse = ConfigParseOptions.defaults().setAllowMissing(false);
        Config raw = ConfigFactory.parseResources(SettingsLoader.class, "/reference.conf", parse);
        // resolved without the environment, so that the defaults shown are the file's own
        Config resolved = raw.resolve(ConfigResolveOptions.noSystem());
        // and once more with every ${?VAR} standing for itself, to tell which keys it overrides
        Config markers = raw.resolve(ConfigResolveOptions.noSystem().appendResolver(new ConfigResolver() {
            @Override
            public ConfigValue lookup(String path) {
                return ConfigValueFactory.fromAnyRef("${" + path + "}");
            }

            @Override
            public ConfigResolver withFallback(ConfigResolver fallback) {
                return this;
            }
        }));
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n")
                .append("Generated from `common/src/main/resources/reference.conf`, which is the source of truth; ")
                .append("a test fails when the two differ. Regenerate with:\n\n```\n")
                .append(REGENERATE)
                .append("\n```\n\n")
                .append("Your `asfc.conf` only needs the keys you change. Durations use HOCON syntax (`500ms`, `10s`, ")
                .append(
                        "`2m`). `null` means no default. An unknown key or a bad value is reported with file and line, ")
                .append("and `asfc-agent` exits with code 78.\n");
        section(out, "asfc", resolved.getObject("asfc"), markers, 2);
        return out.toString();
    }

    private static void section(StringBuilder out, String path, ConfigObject object, Config markers, int level) {
        List<Map.Entry<String, ConfigValue>> leaves = new ArrayList<>();
        List<Map.Entry<String, ConfigValue>> sections = new ArrayList<>();
        object.entrySet().stream()
                .sorted(Comparator.comparingInt(e -> e.getValue().origin().lineNumber()))
                .forEach(e -> (isSection(e.getValue()) ? sections : leaves).add(e));
        out.append('\n').append("#".repeat(level)).append(" `").append(path).append("`\n\n");
        String about = comment(object);
        if (!about.isEmpty()) {
            out.append(about.replace("\n", "  \n")).append("\n\n");
        }
        if (!leaves.isEmpty()) {
            out.append("| Key | Default | What it does |\n|---|---|---|\n");
            for (Map.Entry<String, ConfigValue> e : leaves) {
                String key = path + "." + e.getKey();
                out.append("| `")
                        .append(key)
                        .append("` | ")
                        .append(defaultOf(e.getValue(), markers, key))
                        .append(" | ")
                        .append(comment(e.getValue()).replace("\n", "<br>").replace("|", "\\|"))
                        .append(" |\n");
            }
        }
        for (Map.Entry<String, ConfigValue> e : sections) {
            section(out, path + "." + e.getKey(), (ConfigObject) e.getValue(), markers, Math.min(level + 1, 4));
        }
    }

    /** A non-empty object is a section; an empty one ({@code hosts {}}) is a map the user fills. */
    private static boolean isSection(ConfigValue value) {
        return value.valueType() == ConfigValueType.OBJECT && !((ConfigObject) value).isEmpty();
    }

    private static String defaultOf(ConfigValue value, Config markers, String key) {
        String shown = "`" + value.render(ConfigRenderOptions.concise()).replace("|", "\\|") + "`";
        if (!markers.hasPath(key)) {
            return shown; // null: no default, no override
        }
        Matcher env = ENV.matcher(markers.getValue(key).render(ConfigRenderOptions.concise()));
        return env.find() ? shown + "<br>env `" + env.group(1) + "`" : shown;
    }

    /** The comment lines above a value, one paragraph; example lines (indented) kept as lines. */
    private static String comment(ConfigValue value) {
        StringBuilder text = new StringBuilder();
        boolean lastWasExample = false;
        for (String line : value.origin().comments()) {
            boolean example = line.startsWith("   ");
            String stripped = line.strip();
            if (stripped.isEmpty()) {
                continue;
            }
            if (text.length() > 0) {
                text.append(example || lastWasExample ? "\n" : " ");
            }
            text.append(example ? "`" + stripped + "`" : stripped);
            lastWasExample = example;
        }
        return text.toString();
    }
}
