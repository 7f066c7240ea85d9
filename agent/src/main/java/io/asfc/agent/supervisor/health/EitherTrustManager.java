package io.asfc.agent.supervisor.health;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.stream.Stream;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a chain that either of two trust managers trusts. Both are PKIX managers, so each still
 * verifies the host name (the HTTP client asks for the "HTTPS" identification algorithm).
 */
final class EitherTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager jdk;
    private final X509ExtendedTrustManager extra;

    /**
     * @param jdk the JDK's default trust
     * @param extra the configured CA file; its complaint is the one reported when both refuse
     */
    EitherTrustManager(X509ExtendedTrustManager jdk, X509ExtendedTrustManager extra) {
        this.jdk = jdk;
        this.extra = extra;
    }

    @FunctionalInterface
    private interface Check {
        void run(X509ExtendedTrustManager manager) throws CertificateException;
    }

    private void either(Check check) throws CertificateException {
        try {
            check.run(jdk);
        } catch (CertificateException refusedByJdk) {
            try {
                check.run(extra);
            } catch (CertificateException refusedByExtra) {
                refusedByExtra.addSuppressed(refusedByJdk);
                throw refusedByExtra;
            }
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        either(m -> m.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        either(m -> m.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        either(m -> m.checkServerTrusted(chain, authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        either(m -> m.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        either(m -> m.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        either(m -> m.checkClientTrusted(chain, authType));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return Stream.concat(Arrays.stream(jdk.getAcceptedIssuers()), Arrays.stream(extra.getAcceptedIssuers()))
                .toArray(X509Certificate[]::new);
    }
}
