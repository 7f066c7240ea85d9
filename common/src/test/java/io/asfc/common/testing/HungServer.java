package io.asfc.common.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server on a free loopback port that accepts connections and never sends a byte, like an
 * sshd that hangs before its banner. Accepted sockets stay open until {@link #close()}.
 */
public final class HungServer implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Socket> accepted = ConcurrentHashMap.newKeySet();
    private final AtomicInteger count = new AtomicInteger();

    private HungServer(ServerSocket server) {
        this.server = server;
    }

    public static HungServer start() throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        HungServer hung = new HungServer(server);
        Thread acceptor = new Thread(hung::accept, "hung-server-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return hung;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** How many connections were accepted so far. */
    public int accepted() {
        return count.get();
    }

    @Override
    public void close() {
        closeQuietly(server);
        accepted.forEach(HungServer::closeQuietly);
        accepted.clear();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                accepted.add(socket);
                count.incrementAndGet();
                if (server.isClosed()) { // closed while we were accepting: close() may have missed it
                    closeQuietly(socket);
                }
            } catch (IOException e) {
                // the listening socket was closed by close(): nothing more to accept
            }
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // a socket's close fails only when it is already broken: nothing left to release
        }
    }
}
