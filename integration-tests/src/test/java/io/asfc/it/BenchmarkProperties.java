package io.asfc.it;

import java.time.Duration;
import java.util.Locale;

/** The benchmarks' {@code -Dbench.*} settings. */
final class BenchmarkProperties {
    private BenchmarkProperties() {}

    /** A duration such as {@code 500ms}, {@code 20s}, {@code 2m}, or a bare number of seconds. */
    static Duration duration(String property, String fallback) {
        String text = System.getProperty(property, fallback).trim().toLowerCase(Locale.ROOT);
        if (text.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
        }
        if (text.endsWith("m")) {
            return Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
        }
        return Duration.ofSeconds(Long.parseLong(text.endsWith("s") ? text.substring(0, text.length() - 1) : text));
    }
}
