package io.asfc.common.zk;

import java.util.regex.Pattern;

/** Node ids and cluster names become znode names and SSH targets, so they stay plain. */
public final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private Names() {}

    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** Returns the name, or throws IllegalArgumentException naming what is wrong. */
    public static String require(String what, String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException(what + " \"" + name + "\" is not a valid name");
        }
        return name;
    }
}
