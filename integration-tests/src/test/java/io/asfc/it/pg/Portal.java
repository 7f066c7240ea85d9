package io.asfc.it.pg;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A way in for the test JVM, which lives in the root network namespace, to a TCP service on the proving ground's
 * network (e.g. a ZooKeeper server), without giving the root namespace an address on it. It listens on a loopback
 * port; for each connection it runs a tiny relay ({@link #RELAY}) inside the {@link Bridge}'s namespace and pumps
 * bytes between the two. Each connection is its own relay, so a dead server closes only its own connections.
 */
final class Portal implements AutoCloseable {

    private static final String RELAY =
            """
            import os, socket, sys, threading
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
            s.settimeout(None)
            def up():
                while True:
                    d = os.read(0, 65536)
                    if not d:
                        break
                    s.sendall(d)
                s.shutdown(socket.SHUT_WR)
            threading.Thread(target=up, daemon=True).start()
            while True:
                d = s.recv(65536)
                if not d:
                    break
                os.write(1, d)
            """;

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Bridge bridge;
    private final String address;
    private final int targetPort;
    private final ServerSocket server;
    private final List<Process> relays = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Portal(Bridge bridge, String address, int targetPort, ServerSocket server) {
        this.bridge = bridge;
        this.address = address;
        this.targetPort = targetPort;
        this.server = server;
    }

    /** Opens a loopback port that leads to {@code address:port} on the proving ground's network. */
    static Portal open(Bridge bridge, String address, int port) throws IOException {
        Portal portal = new Portal(bridge, address, port, new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        thread("accept", portal::accept).start();
        return portal;
    }

    /** The loopback port. */
    int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:<port>}. */
    String hostAndPort() {
        return "127.0.0.1:" + port();
    }

    private void accept() {
        while (!closed.get()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(socket);
            try {
                Process relay = new ProcessBuilder(
                                bridge.enter(Host.PYTHON, "-c", RELAY, address, Integer.toString(targetPort)))
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                relays.add(relay);
                thread("up", () -> pump(socket, relay, true)).start();
                thread("down", () -> pump(socket, relay, false)).start();
            } catch (IOException e) {
                closeQuietly(socket); // the client sees a closed connection, as if the server were down
            }
        }
    }

    private void pump(Socket socket, Process relay, boolean up) {
        try (InputStream in = up ? socket.getInputStream() : relay.getInputStream();
                OutputStream out = up ? relay.getOutputStream() : socket.getOutputStream()) {
            byte[] buffer = new byte[65536];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                out.write(buffer, 0, n);
                out.flush(); // a process's stdin is buffered: ZooKeeper must see each request now
            }
        } catch (IOException e) {
            // one side closed: close both below
        } finally {
            closeQuietly(socket);
            relay.destroy();
            relays.remove(relay);
            sockets.remove(socket);
        }
    }

    private static Thread thread(String what, Runnable body) {
        Thread t = new Thread(body, "pg-portal-" + what + "-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing a socket that is already broken: nothing left to do
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(server);
        sockets.forEach(Portal::closeQuietly);
        relays.forEach(Process::destroyForcibly);
    }
}
