package io.asfc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The binary distribution of the previous released format, built from a pinned commit of this repository's git
 * history ({@value #COMMIT_PROPERTY}, docs/UPGRADE.md) and cached under {@code integration-tests/target} by commit,
 * so that it is built once. Without that history (a shallow clone) the test fails when {@code CI=true} and is skipped
 * otherwise.
 */
final class PreviousRelease {

    static final String COMMIT_PROPERTY = "asfc.upgrade.from";
    static final String REPO_PROPERTY = "asfc.repo.dir";
    static final String CACHE_PROPERTY = "asfc.upgrade.cache";

    /** The last commit of main before records carried {@code schemaVersion}: schema 1. */
    static final String DEFAULT_COMMIT = "1fee3e2";

    private static final Duration GIT_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);
    private static final String TARBALL_SUFFIX = "-bin.tar.gz";

    private PreviousRelease() {}

    /**
     * The first commit of main whose agents hand over ({@code bin/asfc-agent restart --hand-over}): the oldest
     * release a rolling upgrade with no scheduler restart can start from.
     */
    static final String HAND_OVER_COMMIT = "742e8c4";

    /** The tarball of the pinned commit's distribution ({@value #COMMIT_PROPERTY}), built now unless cached. */
    static Path tarball() throws IOException, InterruptedException {
        return tarball(System.getProperty(COMMIT_PROPERTY, DEFAULT_COMMIT));
    }

    /** The tarball of {@code commit}'s distribution, built now unless cached. */
    static Path tarball(String commit) throws IOException, InterruptedException {
        Path repo = Path.of(System.getProperty(REPO_PROPERTY, ".."))
                .toAbsolutePath()
                .normalize();
        Path cache = Path.of(System.getProperty(CACHE_PROPERTY, "target/upgrade-from"))
                .toAbsolutePath()
                .normalize();
        CommandResult resolved = Commands.run(
                List.of("git", "-C", repo.toString(), "rev-parse", "--verify", "--quiet", commit + "^{commit}"),
                repo,
                System.getenv(),
                GIT_TIMEOUT);
        if (resolved.exitCode() != 0) {
            unavailable("commit " + commit + " (the previous released format) is not in the git history of " + repo
                    + ": a shallow clone? Fetch the whole history (e.g. actions/checkout with fetch-depth: 0)\n"
                    + resolved.describe());
        }
        String full = resolved.stdout().trim();
        Path dir = Files.createDirectories(cache.resolve(full));
        Optional<Path> cached = find(dir);
        if (cached.isPresent()) {
            System.out.println("[upgrade] the distribution of " + commit + " is cached: " + cached.get());
            return cached.get();
        }
        return build(repo, full, dir);
    }

    private static Path build(Path repo, String commit, Path dir) throws IOException, InterruptedException {
        Path src = Files.createTempDirectory(dir, "src-");
        try {
            long began = System.nanoTime();
            CommandResult archive = Commands.run(
                    List.of(
                            "sh",
                            "-c",
                            "git -C \"$0\" archive \"$1\" | tar -x -C \"$2\"",
                            repo.toString(),
                            commit,
                            src.toString()),
                    repo,
                    System.getenv(),
                    GIT_TIMEOUT);
            assertEquals(0, archive.exitCode(), archive::describe);
            List<String> mvn = new ArrayList<>(List.of(
                    maven(),
                    "-B",
                    "-ntp",
                    "-q",
                    "-o",
                    "package",
                    "-DskipTests",
                    "-DskipPitest",
                    "-Dspotless.check.skip=true",
                    "-pl",
                    "common,agent",
                    "-am"));
            CommandResult build = Commands.run(mvn, src, System.getenv(), BUILD_TIMEOUT);
            if (build.exitCode() != 0) {
                // offline first (the local repository has what this build needed); else let Maven download
                System.out.println(
                        "[upgrade] the offline build of " + commit + " failed; retrying online\n" + build.describe());
                mvn.remove("-o");
                build = Commands.run(mvn, src, System.getenv(), BUILD_TIMEOUT);
            }
            CommandResult built = build;
            assertEquals(0, built.exitCode(), built::describe);
            Path made = find(src.resolve("agent/target"))
                    .orElseThrow(() -> new AssertionError("the build of " + commit + " made no distribution"));
            Path tarball = Files.copy(made, dir.resolve(made.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            System.out.printf(
                    "[upgrade] built the distribution of %s in %d s: %s%n",
                    commit, Duration.ofNanos(System.nanoTime() - began).toSeconds(), tarball);
            return tarball;
        } finally {
            deleteTree(src);
        }
    }

    private static String maven() {
        String home = System.getProperty("maven.home");
        if (home != null && !home.isBlank() && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
            return Path.of(home, "bin", "mvn").toString();
        }
        return "mvn";
    }

    private static Optional<Path> find(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(TARBALL_SUFFIX))
                    .findFirst();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void unavailable(String why) {
        if ("true".equals(System.getenv("CI"))) {
            fail(why);
        }
        assumeTrue(false, why);
        assertTrue(false, why); // not reached
    }
}
