package io.asfc.common.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** Maps config spellings such as {@code accept-new} or {@code SMTP_TLS} to enum constants. */
final class Enums {
    private Enums() {}

    static <E extends Enum<E>> Optional<E> parse(Class<E> type, String text) {
        String wanted = text.trim().replace('-', '_').toUpperCase(Locale.ROOT);
        return Arrays.stream(type.getEnumConstants())
                .filter(e -> e.name().equals(wanted))
                .findFirst();
    }

    static <E extends Enum<E>> String spellings(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Enums::spelling).collect(Collectors.joining(" | "));
    }

    static String spelling(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
