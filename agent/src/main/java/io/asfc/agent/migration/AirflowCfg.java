package io.asfc.agent.migration;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An airflow.cfg read the way Python's {@code configparser} reads it (the Python failover controller
 * used {@code RawConfigParser}, Airflow itself {@code ConfigParser}):
 *
 * <ul>
 *   <li>{@code [section]} headers; section names are case-sensitive, keys are lower-cased;
 *   <li>{@code key = value} or {@code key: value}, split at the first {@code =} or {@code :};
 *       whitespace around key and value is dropped;
 *   <li>a line indented deeper than its key's line continues the value (joined with a newline);
 *       blank lines inside such a value are kept, trailing ones dropped;
 *   <li>whole-line comments start with {@code #} or {@code ;}; there are no inline comments, so
 *       {@code a = b ; c} has the value {@code b ; c};
 *   <li>{@code [DEFAULT]} supplies values to every section;
 *   <li>a key or section given twice is an error, as it is for Python 3 and for Airflow.
 * </ul>
 *
 * {@link #raw} returns a value as the failover controller saw it; {@link #interpolated} as Airflow
 * sees it, with {@code %%} for {@code %} and {@code %(key)s} references.
 */
public final class AirflowCfg {
    static final String DEFAULT_SECTION = "DEFAULT";
    private static final Pattern SECTION = Pattern.compile("\\[(.+)]");
    private static final Pattern OPTION = Pattern.compile("(.*?)\\s*[=:]\\s*(.*)");
    private static final Pattern REFERENCE = Pattern.compile("%\\(([^)]+)\\)s");
    private static final int MAX_INTERPOLATION_DEPTH = 10;

    private final String origin;
    private final Map<String, Map<String, Entry>> sections;
    private final Map<String, Entry> defaults;

    /** One {@code key = value}; {@code line} is where the key is. */
    public record Entry(String key, String value, int line) {}

    /** A value that Airflow could not read: a lone {@code %}, or a reference to a missing key. */
    public static final class BadInterpolation extends RuntimeException {
        BadInterpolation(String message) {
            super(message);
        }
    }

    private AirflowCfg(String origin, Map<String, Map<String, Entry>> sections, Map<String, Entry> defaults) {
        this.origin = origin;
        this.sections = sections;
        this.defaults = defaults;
    }

    public static AirflowCfg read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
            return parse(text, file.toString());
        } catch (NoSuchFileException e) {
            throw new AirflowCfgException(file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new AirflowCfgException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new AirflowCfgException(file + ": cannot read it: " + e.getMessage());
        }
    }

    public static AirflowCfg parse(String text, String origin) {
        return new Parser(origin).parse(text.startsWith("\uFEFF") ? text.substring(1) : text);
    }

    /** The file this was read from, for messages. */
    public String origin() {
        return origin;
    }

    public boolean hasSection(String name) {
        return sections.containsKey(name);
    }

    /** The section's own keys, in file order ({@code [DEFAULT]}'s are not repeated). */
    public List<String> keys(String section) {
        return List.copyOf(sections.getOrDefault(section, Map.of()).keySet());
    }

    /** The value as written (continuation lines joined), from the section or else {@code [DEFAULT]}. */
    public Optional<Entry> raw(String section, String key) {
        String k = key.toLowerCase(Locale.ROOT);
        Entry own = sections.getOrDefault(section, Map.of()).get(k);
        return Optional.ofNullable(own != null ? own : defaults.get(k));
    }

    /**
     * The value as Airflow reads it ({@code configparser}'s BasicInterpolation).
     *
     * @throws BadInterpolation when Airflow could not read it either; the message never holds the value
     */
    public Optional<String> interpolated(String section, String key) {
        return raw(section, key).map(e -> {
            StringBuilder out = new StringBuilder();
            interpolate(section, e.key(), e.value(), out, 1);
            return out.toString();
        });
    }

    private void interpolate(String section, String key, String rest, StringBuilder out, int depth) {
        if (depth > MAX_INTERPOLATION_DEPTH) {
            throw new BadInterpolation("[" + section + "] " + key + ": %(...)s references nest too deep");
        }
        int at = 0;
        while (at < rest.length()) {
            int p = rest.indexOf('%', at);
            if (p < 0) {
                out.append(rest, at, rest.length());
                return;
            }
            out.append(rest, at, p);
            if (rest.startsWith("%%", p)) {
                out.append('%');
                at = p + 2;
                continue;
            }
            Matcher m = REFERENCE.matcher(rest).region(p, rest.length());
            if (!m.lookingAt()) {
                throw new BadInterpolation("[" + section + "] " + key
                        + ": a '%' must be followed by '%' or '(name)s' (write %% for a literal %)");
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            Entry ref = raw(section, name)
                    .orElseThrow(() -> new BadInterpolation(
                            "[" + section + "] " + key + ": refers to %(" + name + ")s, which is not set"));
            interpolate(section, key, ref.value(), out, depth + 1);
            at = m.end();
        }
    }

    /** One pass over the text, as configparser's {@code _read}. */
    private static final class Parser {
        private final String origin;
        private final Map<String, Map<String, Entry>> sections = new LinkedHashMap<>();
        private final Map<String, Entry> defaults = new LinkedHashMap<>();
        private final Map<String, List<String>> valueLines = new HashMap<>();
        private final Set<String> seenSections = new HashSet<>();
        private final List<String> errors = new ArrayList<>();

        private String sectionName;
        private Map<String, Entry> section;
        private Entry option;
        private int indentLevel;

        Parser(String origin) {
            this.origin = origin;
        }

        AirflowCfg parse(String text) {
            String[] lines = text.split("\r\n|\r|\n", -1);
            for (int i = 0; i < lines.length; i++) {
                line(lines[i], i + 1);
            }
            if (!errors.isEmpty()) {
                throw new AirflowCfgException(origin + " cannot be read as an INI file (Python configparser rules):\n  "
                        + String.join("\n  ", errors));
            }
            sections.replaceAll((name, entries) -> joined(name, entries));
            return new AirflowCfg(origin, sections, joined(DEFAULT_SECTION, defaults));
        }

        private void line(String line, int number) {
            String value = line.strip();
            boolean comment = value.startsWith("#") || value.startsWith(";");
            if (value.isEmpty() || comment) {
                if (!comment && option != null) {
                    lines(option).add("");
                }
                return;
            }
            int indent = indentOf(line);
            if (option != null && indent > indentLevel) {
                lines(option).add(value);
                return;
            }
            indentLevel = indent;
            Matcher header = SECTION.matcher(value);
            if (header.lookingAt()) {
                startSection(header.group(1), number);
            } else if (section == null) {
                throw new AirflowCfgException(origin + ":" + number
                        + ": a key before the first [section] header; this is not an airflow.cfg");
            } else {
                startOption(value, number);
            }
        }

        private void startSection(String name, int number) {
            option = null;
            sectionName = name;
            if (name.equals(DEFAULT_SECTION)) {
                section = defaults;
                return;
            }
            if (!seenSections.add(name)) {
                errors.add("line " + number + ": section [" + name + "] appears a second time");
            }
            section = sections.computeIfAbsent(name, n -> new LinkedHashMap<>());
        }

        private void startOption(String value, int number) {
            Matcher m = OPTION.matcher(value);
            if (!m.matches() || m.group(1).isEmpty()) {
                errors.add("line " + number + ": neither a [section] header, a 'key = value' line nor a comment");
                option = null;
                return;
            }
            String key = m.group(1).toLowerCase(Locale.ROOT);
            Entry earlier = section.get(key);
            if (earlier != null) {
                errors.add("line " + number + ": [" + sectionName + "] " + key + " is set a second time (first on line "
                        + earlier.line() + ")");
            }
            option = new Entry(key, m.group(2), number);
            section.put(key, option);
            lines(option).add(m.group(2));
        }

        private List<String> lines(Entry entry) {
            return valueLines.computeIfAbsent(sectionName + "\u0000" + entry.key(), k -> new ArrayList<>());
        }

        private Map<String, Entry> joined(String name, Map<String, Entry> entries) {
            Map<String, Entry> result = new LinkedHashMap<>();
            entries.forEach((key, e) -> {
                List<String> parts = valueLines.getOrDefault(name + "\u0000" + key, List.of(e.value()));
                result.put(key, new Entry(key, String.join("\n", parts).stripTrailing(), e.line()));
            });
            return result;
        }

        private static int indentOf(String line) {
            int i = 0;
            while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            return i;
        }
    }
}
