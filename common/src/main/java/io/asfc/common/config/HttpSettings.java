package io.asfc.common.config;

/** {@code asfc.http}. */
public record HttpSettings(boolean enabled, String bind, int port) {}
