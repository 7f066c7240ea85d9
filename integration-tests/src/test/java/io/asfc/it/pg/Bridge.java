package io.asfc.it.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The proving ground's network: a bridge {@code br0} inside a network namespace of its own (the "switch"), so that
 * nothing is added to the root namespace. Each host is plugged in with a veth pair whose switch end is a port of
 * {@code br0} and whose host end is the host's {@code eth0}. The switch itself has {@link #ADDRESS}, from which the
 * test reaches the hosts ({@link Portal}). Deleting the namespace removes the bridge and every veth pair.
 */
final class Bridge implements AutoCloseable {

    /** The 198.18.0.0/15 benchmarking range; every host is 198.18.0.x/24. */
    static final String SUBNET_PREFIX = "198.18.0.";

    static final String ADDRESS = SUBNET_PREFIX + "1";
    static final int PREFIX_LENGTH = 24;

    private final String netns;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Bridge(String netns) {
        this.netns = netns;
    }

    /** Creates the switch namespace {@code <prefix>-sw} with its bridge. */
    static Bridge create(String prefix) {
        Bridge bridge = new Bridge(prefix + "-sw");
        Sh.run("ip", "netns", "add", bridge.netns);
        try {
            Sh.run("ip", "-n", bridge.netns, "link", "set", "lo", "up");
            Sh.run("ip", "-n", bridge.netns, "link", "add", "br0", "type", "bridge");
            Sh.run("ip", "-n", bridge.netns, "addr", "add", ADDRESS + "/" + PREFIX_LENGTH, "dev", "br0");
            Sh.run("ip", "-n", bridge.netns, "link", "set", "br0", "up");
        } catch (RuntimeException e) {
            bridge.close();
            throw e;
        }
        return bridge;
    }

    /** Plugs {@code hostNetns} in: a veth pair, {@code port} on the bridge and {@code eth0} in the host. */
    void plug(String hostNetns, String port) {
        Sh.run("ip", "link", "add", port, "netns", netns, "type", "veth", "peer", "name", "eth0", "netns", hostNetns);
        Sh.run("ip", "-n", netns, "link", "set", port, "master", "br0", "up");
    }

    String netns() {
        return netns;
    }

    /** {@code nsenter} into the switch's network namespace, to run {@code command} there. */
    List<String> enter(String... command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + netns, "--"));
        argv.addAll(List.of(command));
        return argv;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Sh.attempt("ip", "netns", "del", netns);
        }
    }
}
