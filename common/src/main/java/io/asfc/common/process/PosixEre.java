package io.asfc.common.process;

import java.util.Optional;

/**
 * A Java regular expression rewritten as a POSIX extended regular expression that finds a match in
 * exactly the same strings, for code that matches outside the JVM (bash's {@code [[ =~ ]]}, the on-host
 * deadman). Only existence of a match counts (search, as {@link java.util.regex.Matcher#find}), so a
 * lazy quantifier becomes greedy. Supported: literals, {@code . ^ $ | ( ) * + ? {m,n}}, {@code (?:...)},
 * {@code \Q...\E}, escaped punctuation, {@code \d \s \w} and their negations, and bracket classes
 * without escapes other than {@code \d \s \w}. Anything else (look-around, back-references, flags,
 * possessive quantifiers, {@code \b}, class intersections) is refused with a reason.
 */
public final class PosixEre {
    /** The translation, or why there is none. */
    public record Result(Optional<String> ere, String problem) {}

    private static final String ERE_SPECIAL = ".[]{}()*+?^$|\\";

    private PosixEre() {}

    public static Result of(String java) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        int n = java.length();
        while (i < n) {
            char c = java.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) {
                    return refused("a trailing backslash");
                }
                char e = java.charAt(i + 1);
                if (e == 'Q') {
                    int end = java.indexOf("\\E", i + 2);
                    String literal = end < 0 ? java.substring(i + 2) : java.substring(i + 2, end);
                    for (char l : literal.toCharArray()) {
                        literal(out, l);
                    }
                    i = end < 0 ? n : end + 2;
                    continue;
                }
                String shorthand = shorthand(e, false);
                if (shorthand != null) {
                    out.append(shorthand);
                } else if (!Character.isLetterOrDigit(e)) {
                    literal(out, e);
                } else {
                    return refused("\\" + e);
                }
                i += 2;
            } else if (c == '(') {
                if (java.startsWith("(?:", i)) {
                    out.append('(');
                    i += 3;
                } else if (i + 1 < n && java.charAt(i + 1) == '?') {
                    return refused("a group with (? (look-around, flags or a named group)");
                } else {
                    out.append('(');
                    i++;
                }
            } else if (c == '[') {
                int end = bracket(java, i, out);
                if (end < 0) {
                    return refused("a character class with escapes or nested classes other than \\d, \\s, \\w");
                }
                i = end;
            } else if (c == '*' || c == '+' || c == '?' || c == '}') {
                out.append(c);
                i++;
                if (i < n && java.charAt(i) == '?') {
                    i++; // lazy: the same strings contain a match
                } else if (i < n && java.charAt(i) == '+') {
                    return refused("a possessive quantifier");
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return new Result(Optional.of(out.toString()), null);
    }

    private static Result refused(String what) {
        return new Result(
                Optional.empty(), "uses " + what + ", which a POSIX extended regular expression cannot express");
    }

    private static void literal(StringBuilder out, char c) {
        if (ERE_SPECIAL.indexOf(c) >= 0) {
            out.append('\\');
        }
        out.append(c);
    }

    /** {@code \d \s \w} and negations; inside a bracket, without the outer brackets. */
    private static String shorthand(char e, boolean inBracket) {
        String cls =
                switch (e) {
                    case 'd' -> "[:digit:]";
                    case 's' -> "[:space:]";
                    case 'w' -> "[:alnum:]_";
                    default -> null;
                };
        if (cls != null) {
            return inBracket ? cls : "[" + cls + "]";
        }
        if (inBracket) {
            return null;
        }
        return switch (e) {
            case 'D' -> "[^[:digit:]]";
            case 'S' -> "[^[:space:]]";
            case 'W' -> "[^[:alnum:]_]";
            default -> null;
        };
    }

    /** Copies the class at {@code start}; returns the index after it, or -1 when it cannot. */
    private static int bracket(String java, int start, StringBuilder out) {
        StringBuilder cls = new StringBuilder("[");
        int i = start + 1;
        if (i < java.length() && java.charAt(i) == '^') {
            cls.append('^');
            i++;
        }
        boolean first = true;
        while (i < java.length()) {
            char c = java.charAt(i);
            if (c == ']' && !first) {
                out.append(cls).append(']');
                return i + 1;
            }
            if (c == '[' || (c == '&' && i + 1 < java.length() && java.charAt(i + 1) == '&')) {
                return -1;
            }
            if (c == '\\') {
                String shorthand = i + 1 < java.length() ? shorthand(java.charAt(i + 1), true) : null;
                if (shorthand == null) {
                    return -1;
                }
                cls.append(shorthand);
                i += 2;
            } else {
                cls.append(c);
                i++;
            }
            first = false;
        }
        return -1;
    }
}
