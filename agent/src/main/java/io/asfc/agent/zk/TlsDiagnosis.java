package io.asfc.agent.zk;

import io.asfc.common.config.ZkSettings;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;

/**
 * Says why a TLS client does not connect. ZooKeeper's client only retries and logs at DEBUG what
 * failed; after the connection timeout, one handshake with the first server of the connect string,
 * with the client's own TLS settings, tells the operator what is wrong: a server certificate that
 * the truststore does not trust or that names another host, a client certificate the server wants
 * or refuses, or a port that does not speak TLS.
 */
final class TlsDiagnosis {
    private static final int MAX_TIMEOUT_MS = 3000;
    /** With TLS 1.3 a server refuses a client certificate only after the client's handshake ends. */
    private static final int REFUSAL_WAIT_MS = 500;

    private static final Pattern ALERT = Pattern.compile("received fatal alert: (\\w+)");

    private TlsDiagnosis() {}

    /** Why TLS to the first server fails; empty when its handshake succeeds. */
    static Optional<String> explain(ZkSettings zk, ZKClientConfig config) {
        List<InetSocketAddress> servers = new ConnectStringParser(zk.effectiveConnect()).getServerAddresses();
        if (servers.isEmpty()) {
            return Optional.empty();
        }
        InetSocketAddress server = servers.get(0);
        String where = "TLS to " + server.getHostString() + ":" + server.getPort();
        int timeoutMs = (int) Math.min(MAX_TIMEOUT_MS, zk.connectionTimeout().toMillis());
        boolean handshaken = false;
        try (ClientX509Util x509 = new ClientX509Util();
                SSLSocket socket = x509.createSSLContextAndOptions(config).createSSLSocket()) {
            socket.connect(new InetSocketAddress(server.getHostString(), server.getPort()), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            socket.startHandshake();
            handshaken = true;
            socket.setSoTimeout(REFUSAL_WAIT_MS);
            if (socket.getInputStream().read() < 0) {
                return Optional.of(where + ": the server closed the connection right after the handshake;"
                        + " it may refuse this client's certificate (see its log)");
            }
            return Optional.empty();
        } catch (SocketTimeoutException e) {
            // after the handshake, the server waiting for ZooKeeper's first request is as it should be
            return handshaken ? Optional.empty() : Optional.of(where + ": no answer within " + timeoutMs + "ms");
        } catch (IOException | X509Exception.SSLContextException | RuntimeException e) {
            return Optional.of(where + ": " + reason(e, zk.client()));
        }
    }

    static String reason(Exception e, ZkSettings.Client tls) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        String text = chain.stream()
                .map(t -> String.valueOf(t.getMessage()))
                .reduce("", (a, b) -> a + " | " + b)
                .toLowerCase(Locale.ROOT);
        Throwable root = chain.get(chain.size() - 1);
        if (root instanceof ConnectException) {
            return "connection refused";
        }
        if (root instanceof UnknownHostException) {
            return "unknown host";
        }
        if (chain.stream()
                        .anyMatch(t -> t instanceof CertPathBuilderException || t instanceof CertPathValidatorException)
                || text.contains("pkix path")) {
            return "the server's certificate is not signed by a CA in the truststore "
                    + tls.truststore().map(s -> s.location().toString()).orElse("")
                    + " (asfc.zookeeper.client.truststore)";
        }
        if (text.contains("subject alternative") || text.contains("hostname") || text.contains("host name")) {
            return "the server's certificate does not name this host"
                    + " (asfc.zookeeper.client.hostname-verification): " + root.getMessage();
        }
        Matcher alert = ALERT.matcher(text);
        if (alert.find()) {
            return "the server refused the handshake (" + alert.group(1) + "); "
                    + tls.keystore()
                            .map(s -> "does it trust the CA of this client's certificate in " + s.location() + "?")
                            .orElse("it may require a client certificate, and asfc.zookeeper.client.keystore"
                                    + " is not set");
        }
        if (text.contains("unrecognized ssl message") || text.contains("plaintext")) {
            return "the server does not speak TLS on this port; is it the server's secureClientPort?";
        }
        if (text.contains("remote host terminated the handshake")) {
            return "the server closed the connection during the handshake; is this its secureClientPort,"
                    + " and does it require a client certificate?";
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
