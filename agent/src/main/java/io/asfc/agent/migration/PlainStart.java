package io.asfc.agent.migration;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A start command of the shape the Python failover controller's {@code init} writes, taken apart so
 * that asfc can run the scheduler as its own child:
 *
 * <pre>[export NAME=VALUE…;] [source VENV/bin/activate;] [nohup] airflow scheduler [ARGS] [&gt;&gt; LOG [2&gt;&amp;1]] [&amp;]</pre>
 *
 * Empty commands ({@code ;;}) are skipped. Anything else (another program, {@code -D}, {@code $VAR},
 * {@code ~}, pipes, {@code &&}, {@code cd}, …) is not recognised, and the command stays a command.
 *
 * @param command what asfc runs: {@code airflow scheduler} and its arguments
 * @param environment the exported variables, in order
 * @param virtualenv the directory whose {@code bin/activate} was sourced
 * @param output the dropped output redirection, e.g. {@code >> ~/airflow/logs/scheduler.logs}
 * @param nohup whether {@code nohup} was dropped
 * @param background whether a trailing {@code &} was dropped
 */
record PlainStart(
        String command,
        Map<String, String> environment,
        Optional<String> virtualenv,
        Optional<String> output,
        boolean nohup,
        boolean background) {

    private static final String WORD = "[^\\s'\"$`\\\\;&|<>(){}*?\\[\\]~#]+";
    private static final String VALUE = "(?:" + WORD + "|'[^']*'|\"[^\"$`\\\\]*\")";
    private static final Pattern EXPORT = Pattern.compile("export((?:\\s+[A-Za-z_][A-Za-z0-9_]*=" + VALUE + "?)+)");
    private static final Pattern ASSIGNMENT = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(" + VALUE + "?)");
    private static final Pattern SOURCE = Pattern.compile("(?:source|\\.)\\s+(" + VALUE + ")");
    private static final Pattern SCHEDULER = Pattern.compile("(?<nohup>nohup\\s+)?"
            + "(?<program>(?:/[A-Za-z0-9_.+@/-]*/)?airflow)\\s+scheduler"
            + "(?<args>(?:\\s+[A-Za-z0-9_./=:,@%+-]+)*?)"
            + "(?<output>(?:\\s*(?:[12]?>>?|&>>?)\\s*[^\\s;&|<>]+|\\s*[12]?>&[12])*)"
            + "\\s*(?<background>&)?");
    private static final String ACTIVATE = "/bin/activate";

    static Optional<PlainStart> parse(String startCommand) {
        List<String> parts = commands(startCommand);
        if (parts.isEmpty() || startCommand.indexOf('\\') >= 0) {
            return Optional.empty();
        }
        Map<String, String> environment = new LinkedHashMap<>();
        String virtualenv = null;
        for (String part : parts.subList(0, parts.size() - 1)) {
            Matcher export = EXPORT.matcher(part);
            Matcher source = SOURCE.matcher(part);
            if (export.matches()) {
                Matcher a = ASSIGNMENT.matcher(export.group(1));
                while (a.find()) {
                    environment.put(a.group(1), unquote(a.group(2)));
                }
            } else if (source.matches() && virtualenv == null) {
                String script = unquote(source.group(1));
                if (!script.startsWith("/") || !script.endsWith(ACTIVATE)) {
                    return Optional.empty();
                }
                virtualenv = script.substring(0, script.length() - ACTIVATE.length());
            } else {
                return Optional.empty();
            }
        }
        Matcher m = SCHEDULER.matcher(parts.get(parts.size() - 1));
        if (!m.matches()) {
            return Optional.empty();
        }
        String args = m.group("args").strip();
        for (String arg : args.isEmpty() ? new String[0] : args.split("\\s+")) {
            if (arg.equals("-D") || arg.startsWith("--daemon")) {
                return Optional.empty(); // it daemonizes: a child that exits at once
            }
        }
        String output = m.group("output").strip();
        return Optional.of(new PlainStart(
                m.group("program") + " scheduler" + (args.isEmpty() ? "" : " " + args.replaceAll("\\s+", " ")),
                environment,
                Optional.ofNullable(virtualenv).filter(v -> !v.isEmpty()),
                output.isEmpty() ? Optional.empty() : Optional.of(output),
                m.group("nohup") != null,
                m.group("background") != null));
    }

    /** The commands between unquoted {@code ;} and newlines, trimmed, empty ones left out. */
    private static List<String> commands(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (char c : s.toCharArray()) {
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == ';' || c == '\n') {
                parts.add(cur.toString().strip());
                cur.setLength(0);
                continue;
            }
            cur.append(c);
        }
        parts.add(cur.toString().strip());
        parts.removeIf(String::isEmpty);
        return parts;
    }

    private static String unquote(String value) {
        boolean quoted = value.length() >= 2
                && (value.startsWith("'") && value.endsWith("'") || value.startsWith("\"") && value.endsWith("\""));
        return quoted ? value.substring(1, value.length() - 1) : value;
    }
}
