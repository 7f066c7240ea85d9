package io.asfc.common.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** The OpenSSH and util-linux tools of this machine that {@link Sshd} runs, and whether they are here. */
final class OpenSsh {
    static final Path PRIVSEP_DIR = Path.of("/run/sshd");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private OpenSsh() {}

    /** Skips the test, or fails it where the environment variable CI is {@code true}. */
    static void unavailable(String reason) {
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(reason);
    }

    /** Why {@link Sshd#start} cannot work here, or empty. */
    static Optional<String> missingForSshd() {
        if (binary("sshd").isEmpty()) {
            return Optional.of("sshd not installed: apt-get install openssh-server");
        }
        if (binary("ssh-keygen").isEmpty()) {
            return Optional.of("ssh-keygen not installed: apt-get install openssh-client");
        }
        if (!isRoot() && !Files.isDirectory(PRIVSEP_DIR)) {
            return Optional.of("sshd needs " + PRIVSEP_DIR + ", which is missing, and only root can create it");
        }
        return Optional.empty();
    }

    /** Why {@link Sshd#startInOwnPidNamespace} cannot work here (beyond {@link #missingForSshd}), or empty. */
    static Optional<String> missingForNamespaces() throws IOException, InterruptedException {
        for (String tool : List.of("unshare", "nsenter")) {
            if (binary(tool).isEmpty()) {
                return Optional.of(tool + " not installed: apt-get install util-linux");
            }
        }
        if (!isRoot()) {
            return Optional.of("PID namespaces need root, but tests run as " + System.getProperty("user.name"));
        }
        Process probe = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "true")
                .redirectErrorStream(true)
                .start();
        String output = finish(probe, "unshare --pid --fork --mount-proc true");
        if (probe.exitValue() != 0) {
            return Optional.of("unshare --pid --fork --mount-proc fails here (a container without "
                    + "CAP_SYS_ADMIN?): " + output.strip());
        }
        return Optional.empty();
    }

    /** {@code name}'s absolute path: /usr/sbin first (sshd lives there, often off PATH), then PATH. */
    static Optional<Path> binary(String name) {
        List<String> dirs = new ArrayList<>(List.of("/usr/sbin"));
        dirs.addAll(Arrays.asList(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        return dirs.stream()
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** sshd's absolute path, which it needs to re-execute itself for each connection. */
    static String sshd() {
        return binary("sshd")
                .orElseThrow(() -> new IllegalStateException("sshd not installed: apt-get install openssh-server"))
                .toString();
    }

    /** Generates an ed25519 key pair without passphrase: {@code key} and {@code key.pub}. */
    static Path keygen(Path key) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(
                        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "asfc-test", "-f", key.toString())
                .redirectErrorStream(true)
                .start();
        String output = finish(process, "ssh-keygen for " + key);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(
                    "ssh-keygen for " + key + " exited with " + process.exitValue() + ": " + output);
        }
        return key;
    }

    /** {@code ssh-ed25519 <base64>} of {@code privateKey}, without the comment. */
    static String publicKey(Path privateKey) throws IOException {
        String[] words = Files.readString(Path.of(privateKey + ".pub")).strip().split("\\s+");
        return words[0] + " " + words[1];
    }

    /** Whether this sshd has PerSourcePenalties (9.8+), which would lock out 127.0.0.1 after failed logins. */
    static boolean hasPerSourcePenalties() throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(sshd(), "-V").redirectErrorStream(true).start();
        Matcher version = Pattern.compile("OpenSSH_(\\d+)\\.(\\d+)").matcher(finish(process, "sshd -V"));
        if (!version.find()) {
            return false;
        }
        int major = Integer.parseInt(version.group(1));
        return major > 9 || (major == 9 && Integer.parseInt(version.group(2)) >= 8);
    }

    static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .anyMatch(line -> line.split("\\s+")[2].equals("0")); // the effective uid
        } catch (IOException e) {
            return "root".equals(System.getProperty("user.name")); // no /proc to ask: go by the name
        }
    }

    /** Waits for a short command and returns its output, which must fit in a pipe. */
    private static String finish(Process process, String what) throws IOException, InterruptedException {
        process.getOutputStream().close();
        if (!process.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(what + " did not finish within " + COMMAND_TIMEOUT);
        }
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
