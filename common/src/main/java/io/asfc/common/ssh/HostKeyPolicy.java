package io.asfc.common.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.UserInfo;
import io.asfc.common.config.Modes.HostKeyChecking;
import io.asfc.common.config.SshSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host key policy over the known-hosts file: {@code yes} verifies, {@code accept-new} pins an
 * unknown host's key on first use (a changed key is still refused), {@code no} accepts any key.
 */
final class HostKeyPolicy implements HostKeyRepository {
    private static final Logger LOG = LoggerFactory.getLogger(HostKeyPolicy.class);

    private final HostKeyRepository known;
    private final HostKeyChecking mode;

    /**
     * Sets {@code jsch} up with the configured known-hosts file (created empty for {@code
     * accept-new}) under this policy; warns when host keys are not verified or cannot be.
     *
     * @throws IllegalArgumentException when the known-hosts file cannot be used
     */
    static void install(JSch jsch, SshSettings settings) {
        Path knownHosts = settings.knownHosts();
        try {
            if (settings.strictHostKeyChecking() == HostKeyChecking.ACCEPT_NEW && !Files.exists(knownHosts)) {
                Files.createDirectories(knownHosts.toAbsolutePath().getParent());
                Files.createFile(knownHosts);
            }
            if (Files.exists(knownHosts)) {
                jsch.setKnownHosts(knownHosts.toString());
            }
        } catch (IOException | JSchException e) {
            throw new IllegalArgumentException("cannot use known-hosts file " + knownHosts + ": " + e.getMessage());
        }
        switch (settings.strictHostKeyChecking()) {
            case NO -> LOG.warn(
                    "ssh.strict-host-key-checking = no: host keys are NOT verified, so anyone on the network path "
                            + "can impersonate a node; use yes or accept-new");
            case YES -> {
                if (!Files.isReadable(knownHosts)) {
                    LOG.warn("known-hosts file {} is missing: every SSH connection will be refused", knownHosts);
                }
            }
            case ACCEPT_NEW -> {}
        }
        jsch.setHostKeyRepository(new HostKeyPolicy(jsch.getHostKeyRepository(), settings.strictHostKeyChecking()));
    }

    private HostKeyPolicy(HostKeyRepository known, HostKeyChecking mode) {
        this.known = known;
        this.mode = mode;
    }

    @Override
    public synchronized int check(String host, byte[] key) {
        if (mode == HostKeyChecking.NO) {
            return OK;
        }
        int result = known.check(host, key);
        if (result == NOT_INCLUDED && mode == HostKeyChecking.ACCEPT_NEW) {
            try {
                known.add(new HostKey(host, key), null);
                LOG.info("pinned the host key of {} in {} (accept-new)", host, known.getKnownHostsRepositoryID());
                return OK;
            } catch (JSchException e) {
                LOG.warn("cannot pin the host key of {}: {}", host, e.getMessage());
            }
        }
        return result;
    }

    @Override
    public synchronized void add(HostKey hostkey, UserInfo ui) {
        known.add(hostkey, ui);
    }

    @Override
    public synchronized void remove(String host, String type) {
        known.remove(host, type);
    }

    @Override
    public synchronized void remove(String host, String type, byte[] key) {
        known.remove(host, type, key);
    }

    @Override
    public String getKnownHostsRepositoryID() {
        return known.getKnownHostsRepositoryID();
    }

    @Override
    public HostKey[] getHostKey() {
        return known.getHostKey();
    }

    @Override
    public HostKey[] getHostKey(String host, String type) {
        return known.getHostKey(host, type);
    }
}
