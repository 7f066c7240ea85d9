package io.asfc.common.ssh;

import com.jcraft.jsch.SocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Opens JSch's TCP connection itself, bounded by the connect timeout, and records when it was
 * established: what tells the TCP connect apart from the handshake in {@code Session.connect}.
 */
final class TimedSocketFactory implements SocketFactory {
    private final int timeoutMillis;
    private final LongSupplier nanoTime;
    private final AtomicLong connectedNanos = new AtomicLong(Long.MIN_VALUE);

    TimedSocketFactory(int timeoutMillis, LongSupplier nanoTime) {
        this.timeoutMillis = timeoutMillis;
        this.nanoTime = nanoTime;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        socket.setTcpNoDelay(true);
        connectedNanos.set(nanoTime.getAsLong());
        return socket;
    }

    @Override
    public InputStream getInputStream(Socket socket) throws IOException {
        return socket.getInputStream();
    }

    @Override
    public OutputStream getOutputStream(Socket socket) throws IOException {
        return socket.getOutputStream();
    }

    /** When the TCP connection was established (a {@code nanoTime}); empty before, or if it failed. */
    OptionalLong connectedAt() {
        long at = connectedNanos.get();
        return at == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(at);
    }
}
