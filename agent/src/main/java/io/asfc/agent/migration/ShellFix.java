package io.asfc.agent.migration;

import java.util.regex.Pattern;

/**
 * Repairs the two shell mistakes the Python failover controller wrote into airflow.cfg, without
 * changing what the command does otherwise:
 *
 * <ul>
 *   <li>an empty command: {@code ;;} (its {@code init} wrote {@code export AIRFLOW_HOME=…;;nohup …}
 *       when run without {@code -venv}), a {@code ;} right after {@code &}, or a leading {@code ;}.
 *       Outside {@code case} each is a syntax error to /bin/sh, so the command never ran at all;
 *   <li>{@code source FILE}, which /bin/sh (dash on Debian and Ubuntu) does not know: it becomes the
 *       POSIX {@code . FILE}.
 * </ul>
 *
 * Quotes, backslash escapes and {@code #} comments are respected; redirections such as {@code 2>&1}
 * are not mistaken for a background {@code &}. A command that uses {@code case} keeps its {@code ;;}.
 */
final class ShellFix {
    private static final Pattern CASE = Pattern.compile("(^|[\\s;&|(])case\\s");

    /** The repaired command and what was repaired. */
    record Result(String command, boolean droppedEmptyCommands, boolean sourceToDot) {
        boolean changed() {
            return droppedEmptyCommands || sourceToDot;
        }
    }

    private ShellFix() {}

    static Result fix(String command) {
        boolean keepSemicolons = CASE.matcher(command).find();
        StringBuilder out = new StringBuilder();
        boolean dropped = false;
        boolean sourced = false;
        boolean commandStart = true;
        char quote = 0;
        int n = command.length();
        int i = 0;
        while (i < n) {
            char c = command.charAt(i);
            if (quote != 0) {
                out.append(c);
                if (quote == '"' && c == '\\' && i + 1 < n) {
                    out.append(command.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
                i++;
                continue;
            }
            if (c == '\\' && i + 1 < n) {
                out.append(c).append(command.charAt(i + 1));
                i += 2;
                commandStart = false;
            } else if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
                commandStart = false;
                i++;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(command.charAt(i - 1)))) {
                int end = command.indexOf('\n', i);
                end = end < 0 ? n : end;
                out.append(command, i, end);
                i = end;
            } else if (c == ' ' || c == '\t') {
                out.append(c);
                i++;
            } else if (c == '\n') {
                out.append(c);
                commandStart = true;
                i++;
            } else if (c == ';') {
                if (commandStart && !keepSemicolons) {
                    dropped = true;
                } else {
                    out.append(c);
                    commandStart = true;
                }
                i++;
            } else if (c == '&' || c == '|') {
                boolean redirect = c == '&'
                        && ((i > 0 && (command.charAt(i - 1) == '>' || command.charAt(i - 1) == '<'))
                                || (i + 1 < n && command.charAt(i + 1) == '>'));
                boolean doubled = i + 1 < n && command.charAt(i + 1) == c;
                out.append(c);
                if (doubled) {
                    out.append(c);
                    i++;
                }
                commandStart = !redirect;
                i++;
            } else if (commandStart && startsWord(command, i, "source")) {
                out.append('.');
                sourced = true;
                commandStart = false;
                i += "source".length();
            } else {
                out.append(c);
                commandStart = false;
                i++;
            }
        }
        // a dropped ';' can leave blanks at either end; the rest of the spacing is the user's
        return new Result(dropped ? out.toString().strip() : out.toString(), dropped, sourced);
    }

    private static boolean startsWord(String s, int at, String word) {
        int end = at + word.length();
        return s.startsWith(word, at) && end < s.length() && (s.charAt(end) == ' ' || s.charAt(end) == '\t');
    }
}
