package io.asfc.agent.migration;

import com.typesafe.config.ConfigUtil;
import java.util.List;
import java.util.stream.Collectors;

/** Writes indented HOCON with comments. Values are rendered by the caller ({@link #str}, {@link #list}). */
final class Hocon {
    private static final int WIDTH = 100;
    private static final String INDENT = "  ";

    private final StringBuilder text = new StringBuilder();
    private int depth;

    /** A comment, wrapped at word boundaries; continuation lines are indented by two spaces. */
    Hocon comment(String line) {
        String prefix = INDENT.repeat(depth) + "# ";
        int room = Math.max(40, WIDTH - prefix.length());
        String rest = line;
        boolean first = true;
        while (rest.length() > room - (first ? 0 : 2)) {
            int limit = room - (first ? 0 : 2);
            int cut = rest.lastIndexOf(' ', limit);
            if (cut <= 0) {
                break;
            }
            text.append(prefix).append(first ? "" : "  ").append(rest, 0, cut).append('\n');
            rest = rest.substring(cut + 1);
            first = false;
        }
        text.append(prefix).append(first ? "" : "  ").append(rest).append('\n');
        return this;
    }

    /** A comment that quotes a value from airflow.cfg: never wrapped, so the value reads as it is. */
    Hocon quote(String line) {
        text.append(INDENT.repeat(depth)).append("# ").append(line).append('\n');
        return this;
    }

    Hocon set(String key, String rendered) {
        text.append(INDENT.repeat(depth))
                .append(key)
                .append(" = ")
                .append(rendered)
                .append('\n');
        return this;
    }

    Hocon open(String key) {
        text.append(INDENT.repeat(depth)).append(key).append(" {\n");
        depth++;
        return this;
    }

    Hocon close() {
        depth--;
        text.append(INDENT.repeat(depth)).append("}\n");
        return this;
    }

    Hocon blank() {
        text.append('\n');
        return this;
    }

    static String str(String value) {
        return ConfigUtil.quoteString(value);
    }

    static String list(List<String> values) {
        return values.stream().map(Hocon::str).collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * A value from airflow.cfg fit for a comment: on one line (a newline of a continued value shows
     * as {@code \n}), without control characters that could end the comment.
     */
    static String oneLine(String value) {
        StringBuilder sb = new StringBuilder();
        for (char c : value.toCharArray()) {
            if (c == '\n') {
                sb.append("\\n");
            } else if (!Character.isISOControl(c)) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
