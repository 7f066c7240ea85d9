package io.asfc.common.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Who started a process, as far as this host can tell. asfc starts every scheduler (child mode,
 * command mode's start-command, an agentless node's start over SSH) with {@value #VARIABLE}{@code
 * =<node id>} in its environment; the whole tree inherits it. {@code /proc/<pid>/environ} and
 * {@code /proc/<pid>/ns/*} are readable for processes of the same user (or by root), like signals.
 *
 * @param kind what was found
 * @param node the node id of the mark, for {@link Kind#MARKED}; else null
 */
public record ProcessOrigin(Kind kind, String node) {
    /** The environment variable that marks a scheduler asfc started, and for which node. */
    public static final String VARIABLE = "ASFC_NODE";

    private static final Path PROC = Path.of("/proc");

    public enum Kind {
        /** Started by asfc, for {@link #node()}. */
        MARKED,
        /** No mark: not started by asfc. */
        UNMARKED,
        /** In another pid or network namespace than this process: another host, or a container. */
        ELSEWHERE,
        /** Its environment or namespaces cannot be read (another user's, or it just ended). */
        UNKNOWN
    }

    public static final ProcessOrigin UNMARKED = new ProcessOrigin(Kind.UNMARKED, null);
    public static final ProcessOrigin ELSEWHERE = new ProcessOrigin(Kind.ELSEWHERE, null);
    public static final ProcessOrigin UNKNOWN = new ProcessOrigin(Kind.UNKNOWN, null);

    public static ProcessOrigin marked(String node) {
        return new ProcessOrigin(Kind.MARKED, node);
    }

    /** Reads the origin of {@code pid} from {@code /proc}, relative to this JVM's namespaces. */
    public static ProcessOrigin of(long pid) {
        Path dir = PROC.resolve(Long.toString(pid));
        Path self = PROC.resolve("self");
        try {
            for (String ns : new String[] {"ns/pid", "ns/net"}) {
                if (!Files.readSymbolicLink(dir.resolve(ns)).equals(Files.readSymbolicLink(self.resolve(ns)))) {
                    return ELSEWHERE;
                }
            }
            return fromEnviron(Files.readAllBytes(dir.resolve("environ")));
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /** The origin a process's {@code environ} (NUL-separated {@code NAME=value} entries) says. */
    static ProcessOrigin fromEnviron(byte[] environ) {
        String prefix = VARIABLE + "=";
        for (String entry : new String(environ, StandardCharsets.UTF_8).split("\0")) {
            if (entry.startsWith(prefix)) {
                return marked(entry.substring(prefix.length()));
            }
        }
        return UNMARKED;
    }

    /** The node of a mark, when marked. */
    public Optional<String> markedFor() {
        return Optional.ofNullable(node);
    }
}
