package io.asfc.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real three-node ZooKeeper ensemble on this machine's loopback: three {@code QuorumPeerMain} JVMs from the
 * distribution's own jars (as {@link StandaloneZooKeeper} runs one server), each on ports of its own, data and logs
 * under {@code dir}. The proving ground's {@code pg.ZkEnsemble} is the same ensemble inside network namespaces (it
 * needs root); this one needs nothing but free ports. Four-letter words {@code srvr} and {@code mntr} are enabled.
 */
final class LoopbackEnsemble implements AutoCloseable {

    /** ZooKeeper's own default tick: sessions of 4 s to 40 s, the agents' shipped 10 s among them. */
    static final Duration TICK = Duration.ofSeconds(2);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    /** One server: its id (myid), client port and JVM. */
    record Server(int id, int clientPort, Path dir, Process process) {
        long pid() {
            return process.pid();
        }

        String mode() {
            try {
                return Network.fourLetterWord(clientPort, "srvr")
                        .lines()
                        .filter(l -> l.startsWith("Mode: "))
                        .map(l -> l.substring("Mode: ".length()).trim())
                        .findFirst()
                        .orElse("down");
            } catch (IOException e) {
                return "down";
            }
        }

        /** The server's {@code mntr} figures, by name (numbers and strings alike). */
        Map<String, String> mntr() throws IOException {
            Map<String, String> figures = new LinkedHashMap<>();
            for (String line : Network.fourLetterWord(clientPort, "mntr").split("\n")) {
                String[] f = line.split("\t", 2);
                if (f.length == 2) {
                    figures.put(f[0].trim(), f[1].trim());
                }
            }
            return figures;
        }

        /** The server's last zxid, from {@code srvr}. */
        long zxid() throws IOException {
            for (String line : Network.fourLetterWord(clientPort, "srvr").split("\n")) {
                if (line.startsWith("Zxid:")) {
                    return Long.decode(line.substring("Zxid:".length()).trim());
                }
            }
            throw new IOException("no Zxid in srvr's answer from server " + id);
        }
    }

    private final List<Server> servers;

    private LoopbackEnsemble(List<Server> servers) {
        this.servers = servers;
    }

    /**
     * Starts three servers and waits for a leader with both followers serving. {@code maxClientCnxns = 0}: every
     * client here connects from 127.0.0.1, where a real deployment has one or two agents per host address, and
     * ZooKeeper's default limit of 60 connections per address would refuse the rest.
     */
    static LoopbackEnsemble start(Distribution dist, Path dir, List<String> jvmOptions) throws IOException {
        int n = 3;
        int[] client = new int[n];
        int[] quorum = new int[n];
        int[] election = new int[n];
        for (int i = 0; i < n; i++) {
            client[i] = Network.freePort();
            quorum[i] = Network.freePort();
            election[i] = Network.freePort();
        }
        List<Server> servers = new ArrayList<>();
        LoopbackEnsemble ensemble = new LoopbackEnsemble(servers);
        try {
            for (int i = 0; i < n; i++) {
                int id = i + 1;
                Path home = Files.createDirectories(dir.resolve("zk" + id));
                Path data = Files.createDirectories(home.resolve("data"));
                Files.writeString(data.resolve("myid"), id + "\n");
                StringBuilder cfg = new StringBuilder();
                cfg.append("tickTime=").append(TICK.toMillis()).append('\n');
                cfg.append("initLimit=10\nsyncLimit=5\n");
                cfg.append("dataDir=").append(data).append('\n');
                cfg.append("clientPort=").append(client[i]).append('\n');
                cfg.append("clientPortAddress=127.0.0.1\n");
                cfg.append("maxClientCnxns=0\n");
                cfg.append("4lw.commands.whitelist=srvr,mntr,ruok\n");
                cfg.append("admin.enableServer=false\n");
                for (int j = 0; j < n; j++) {
                    cfg.append("server.")
                            .append(j + 1)
                            .append("=127.0.0.1:")
                            .append(quorum[j])
                            .append(':')
                            .append(election[j])
                            .append('\n');
                }
                Path zooCfg = home.resolve("zoo.cfg");
                Files.writeString(zooCfg, cfg.toString(), StandardCharsets.UTF_8);
                Path logback = home.resolve("logback.xml");
                Files.writeString(
                        logback,
                        StandaloneZooKeeper.LOGBACK.formatted(home.resolve("zookeeper.log")),
                        StandardCharsets.UTF_8);
                List<String> command = new ArrayList<>(List.of(
                        Distribution.java(),
                        "-Dzookeeper.admin.enableServer=false",
                        "-Dlogback.configurationFile=" + logback));
                command.addAll(jvmOptions);
                command.addAll(List.of(
                        "-cp",
                        dist.classPath(),
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                        zooCfg.toString()));
                Process process = new ProcessBuilder(command)
                        .directory(home.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(home.resolve("zookeeper.out").toFile())
                        .start();
                process.getOutputStream().close();
                servers.add(new Server(id, client[i], home, process));
            }
            await("a ZooKeeper leader with both followers serving")
                    .atMost(START_TIMEOUT)
                    .pollInterval(Duration.ofMillis(250))
                    .failFast("a ZooKeeper server exited", () -> servers.stream()
                            .anyMatch(s -> !s.process().isAlive()))
                    .until(() -> {
                        List<String> modes = servers.stream().map(Server::mode).toList();
                        return modes.stream().filter("leader"::equals).count() == 1
                                && modes.stream().filter("follower"::equals).count() == n - 1;
                    });
        } catch (IOException | RuntimeException e) {
            String tails = ensemble.logTails();
            ensemble.close();
            throw new AssertionError("the ensemble did not start under " + dir + "\n" + tails, e);
        }
        return ensemble;
    }

    List<Server> servers() {
        return servers;
    }

    String connectString() {
        return servers.stream().map(s -> "127.0.0.1:" + s.clientPort()).collect(Collectors.joining(","));
    }

    /** The server that says {@code Mode: leader}. */
    Server leader() {
        return servers.stream()
                .filter(s -> s.mode().equals("leader"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ZooKeeper leader"));
    }

    String logTails() {
        StringBuilder tails = new StringBuilder();
        for (Server s : servers) {
            tails.append("--- zk").append(s.id()).append(" zookeeper.out:\n");
            tails.append(Commands.tail(s.dir().resolve("zookeeper.out"), 10));
            tails.append("--- zk").append(s.id()).append(" zookeeper.log:\n");
            tails.append(Commands.tail(s.dir().resolve("zookeeper.log"), 20));
        }
        return tails.toString();
    }

    /** Stops every server: SIGTERM, then SIGKILL if it lingers. */
    @Override
    public void close() {
        for (Server s : servers) {
            s.process().destroy();
        }
        for (Server s : servers) {
            try {
                if (!s.process().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    s.process().destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                s.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
