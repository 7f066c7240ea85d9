package io.asfc.it.pg;

import static org.awaitility.Awaitility.await;

import io.asfc.it.Distribution;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real three-node ZooKeeper ensemble: one {@code QuorumPeerMain} JVM, from the distribution's own jars, on each of
 * three {@link Host}s. The test reads each server's four-letter words through a {@link Portal}.
 */
final class ZkEnsemble implements AutoCloseable {

    static final int CLIENT_PORT = 2181;
    /** Sessions expire on tick boundaries; a 500 ms tick allows sessions of 1 s to 10 s. */
    static final Duration TICK = Duration.ofMillis(500);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final int SOCKET_TIMEOUT_MILLIS = 3_000;
    private static final String LOGBACK =
            """
            <configuration>
              <appender name="FILE" class="ch.qos.logback.core.FileAppender">
                <file>%s</file>
                <encoder><pattern>%%d{HH:mm:ss.SSS} %%-5level [%%thread] %%logger{36} - %%msg%%n</pattern></encoder>
              </appender>
              <root level="INFO"><appender-ref ref="FILE"/></root>
            </configuration>
            """;

    /** One server: its id (myid), host, and JVM while it runs. */
    static final class Server {
        final int id;
        final Host host;
        final Portal portal;
        volatile Process nsenter;

        Server(int id, Host host, Portal portal) {
            this.id = id;
            this.host = host;
            this.portal = portal;
        }

        boolean isRunning() {
            Process p = nsenter;
            return p != null && p.isAlive();
        }

        @Override
        public String toString() {
            return "zk" + id + " (" + host.address() + ")";
        }
    }

    private final Distribution dist;
    private final List<Server> servers;

    private ZkEnsemble(Distribution dist, List<Server> servers) {
        this.dist = dist;
        this.servers = servers;
    }

    /** Writes each server's configuration on its host, starts all three and waits for a quorum. */
    static ZkEnsemble start(Distribution dist, Bridge bridge, List<Host> hosts) throws IOException {
        List<Server> servers = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            Host host = hosts.get(i);
            servers.add(new Server(i + 1, host, Portal.open(bridge, host.address(), CLIENT_PORT)));
        }
        ZkEnsemble ensemble = new ZkEnsemble(dist, servers);
        try {
            for (Server s : servers) {
                ensemble.configure(s);
            }
            for (Server s : servers) {
                ensemble.start(s);
            }
            ensemble.awaitQuorum(START_TIMEOUT);
        } catch (IOException | RuntimeException e) {
            ensemble.close();
            throw e;
        }
        return ensemble;
    }

    List<Server> servers() {
        return servers;
    }

    /** The agents' connect string: the servers' addresses on the proving ground's network. */
    String connectString() {
        return servers.stream().map(s -> s.host.address() + ":" + CLIENT_PORT).collect(Collectors.joining(","));
    }

    /** The test's connect string, through the portals. */
    String portalConnectString() {
        return servers.stream().map(s -> s.portal.hostAndPort()).collect(Collectors.joining(","));
    }

    private void configure(Server s) throws IOException {
        Path dir = s.host.dir();
        Path data = Files.createDirectories(dir.resolve("zk-data"));
        Files.writeString(data.resolve("myid"), s.id + "\n");
        StringBuilder cfg = new StringBuilder();
        cfg.append("tickTime=").append(TICK.toMillis()).append('\n');
        cfg.append("initLimit=20\nsyncLimit=10\n");
        cfg.append("dataDir=").append(data).append('\n');
        cfg.append("clientPort=").append(CLIENT_PORT).append('\n');
        cfg.append("4lw.commands.whitelist=srvr,mntr,ruok\n");
        cfg.append("admin.enableServer=false\n");
        for (Server other : servers) {
            cfg.append("server.")
                    .append(other.id)
                    .append('=')
                    .append(other.host.address())
                    .append(":2888:3888\n");
        }
        Files.writeString(dir.resolve("zoo.cfg"), cfg.toString());
        Files.writeString(dir.resolve("zk-logback.xml"), LOGBACK.formatted(dir.resolve("zookeeper.log")));
    }

    /** Starts {@code s}'s JVM (after a kill or a host restore). */
    void start(Server s) throws IOException {
        Path dir = s.host.dir();
        s.nsenter = s.host.launch(
                List.of(
                        Distribution.java(),
                        "-Xmx192m",
                        "-XX:+UseSerialGC",
                        "-Dzookeeper.admin.enableServer=false",
                        "-Dlogback.configurationFile=" + dir.resolve("zk-logback.xml"),
                        "-cp",
                        dist.classPath(),
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                        dir.resolve("zoo.cfg").toString()),
                dir.resolve("zookeeper.out"),
                Map.of());
    }

    /** SIGKILLs {@code s}'s JVM and waits until it is gone. */
    void kill(Server s) throws InterruptedException {
        Process p = s.nsenter;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.toHandle().children().forEach(jvm -> Sh.attempt("kill", "-KILL", Long.toString(jvm.pid())));
        if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The root-namespace pid of {@code s}'s JVM, if it runs. */
    Optional<Long> pid(Server s) {
        Process p = s.nsenter;
        return p == null
                ? Optional.empty()
                : p.toHandle().children().findFirst().map(ProcessHandle::pid);
    }

    /** The server whose {@code srvr} says {@code Mode: leader}, if any answers so. */
    Optional<Server> leader() {
        return servers.stream()
                .filter(Server::isRunning)
                .filter(s -> srvr(s).map(a -> a.contains("Mode: leader")).orElse(false))
                .findFirst();
    }

    /** The leader's last zxid (its low 32 bits count the transactions of the current epoch). */
    Optional<Long> leaderZxid() {
        return leader().flatMap(this::srvr).flatMap(answer -> answer.lines()
                .filter(l -> l.startsWith("Zxid: 0x"))
                .map(l -> Long.parseLong(l.substring("Zxid: 0x".length()).trim(), 16))
                .findFirst());
    }

    /** Waits until every running server serves, one of them as leader. */
    void awaitQuorum(Duration timeout) {
        await("a ZooKeeper leader with every running server serving")
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    List<String> modes = servers.stream()
                            .filter(Server::isRunning)
                            .map(s -> srvr(s).map(ZkEnsemble::mode).orElse("down"))
                            .toList();
                    return modes.contains("leader")
                            && modes.stream().allMatch(m -> m.equals("leader") || m.equals("follower"));
                });
    }

    /** {@code srvr} of {@code s}, through its portal; empty if it does not answer (or is not serving). */
    Optional<String> srvr(Server s) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", s.portal.port()), SOCKET_TIMEOUT_MILLIS);
            socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return answer.contains("Mode:") ? Optional.of(answer) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // down, partitioned, or not serving
        }
    }

    private static String mode(String srvr) {
        return srvr.lines()
                .filter(l -> l.startsWith("Mode: "))
                .map(l -> l.substring("Mode: ".length()).trim())
                .findFirst()
                .orElse("unknown");
    }

    String logTails() {
        StringBuilder tails = new StringBuilder();
        for (Server s : servers) {
            tails.append("--- ")
                    .append(s)
                    .append(" zookeeper.log:\n")
                    .append(io.asfc.it.Commands.tail(s.host.dir().resolve("zookeeper.log"), 15));
        }
        return tails.toString();
    }

    @Override
    public void close() {
        for (Server s : servers) {
            try {
                kill(s);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                s.portal.close();
            }
        }
    }
}
