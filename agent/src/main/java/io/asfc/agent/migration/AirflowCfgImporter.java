package io.asfc.agent.migration;

import static io.asfc.agent.migration.Source.FAILOVER;

import io.asfc.agent.migration.AirflowCfg.Entry;
import io.asfc.common.zk.Names;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns the Python failover controller's settings in an airflow.cfg into an asfc.conf. Every setting
 * it writes names the key it came from; every key it cannot use gets a NOT MAPPED note with the reason.
 * The mapping table is in docs/MIGRATION.md.
 */
public final class AirflowCfgImporter {
    /** The Python tool treated these names as "this host". */
    private static final List<String> LOCAL_NAMES = List.of("localhost", "127.0.0.1");

    private static final Pattern ADDRESS = Pattern.compile("\\d+(\\.\\d+){3}");

    private final Source src;
    private final String hostName;
    private final Optional<String> nodeId;
    private final Hocon out = new Hocon();
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, String> sshUsers = new LinkedHashMap<>();

    /**
     * @param conf the asfc.conf text
     * @param warnings what the user should know before using it (for stderr, not part of the file)
     */
    public record Result(String conf, List<String> warnings) {}

    /** {@code --node-id} names no node of {@code scheduler_nodes_in_cluster}. */
    public static final class UnknownNodeId extends RuntimeException {
        UnknownNodeId(String message) {
            super(message);
        }
    }

    private AirflowCfgImporter(AirflowCfg cfg, String hostName, Optional<String> nodeId) {
        this.src = new Source(cfg);
        this.hostName = hostName;
        this.nodeId = nodeId;
    }

    /**
     * @param hostName this host's name: what "localhost" in the node list stands for, and every
     *     agent's default node id
     * @param nodeId the node this file is for; when empty, node.id is left to default to the host name
     * @throws AirflowCfgException when there is no {@code [scheduler_failover]} section, or a node name
     *     cannot be an asfc node id
     * @throws UnknownNodeId when {@code nodeId} is not one of the nodes
     */
    public static Result convert(AirflowCfg cfg, String hostName, Optional<String> nodeId) {
        if (!cfg.hasSection(FAILOVER)) {
            throw new AirflowCfgException(cfg.origin() + ": no [" + FAILOVER + "] section, so nothing to import"
                    + " (the Python failover controller's 'scheduler_failover_controller init' adds it)");
        }
        nodeId.filter(id -> !Names.isValid(id)).ifPresent(id -> {
            throw new UnknownNodeId(
                    "--node-id \"" + id + "\" is not a valid node id (letters, digits, '.', '_' and '-')");
        });
        return new AirflowCfgImporter(cfg, hostName, nodeId).convert();
    }

    private Result convert() {
        out.comment("asfc.conf imported from " + src.cfg().origin() + " by 'asfc-agent import-airflow-cfg'.");
        out.comment("Each setting says which airflow.cfg key it came from; the NOT MAPPED notes at the end list"
                + " what asfc has no place for. Everything else keeps asfc's default (see reference.conf)."
                + " Check this file with 'asfc-agent check-config --conf FILE'.");
        out.open("asfc");
        nodes();
        zookeeper();
        SchedulerMapping.write(src, out);
        out.blank();
        controller();
        ssh();
        out.blank();
        AlertMapping.write(src, out);
        out.close();
        notMapped();
        return new Result(out.toString(), List.copyOf(warnings));
    }

    private void nodes() {
        Optional<Entry> entry = src.takeNonBlank(FAILOVER, "scheduler_nodes_in_cluster");
        String self = nodeId.orElse(hostName);
        List<String> nodes = new ArrayList<>();
        Map<String, String> users = new LinkedHashMap<>();
        boolean local = false;
        boolean duplicate = false;
        for (String part : entry.map(e -> e.value().split(",")).orElse(new String[0])) {
            String node = part.strip();
            if (node.isEmpty()) {
                continue;
            }
            int at = node.lastIndexOf('@');
            String user = at > 0 ? node.substring(0, at) : null;
            node = node.substring(at + 1);
            if (LOCAL_NAMES.contains(node)) {
                node = self;
                local = true;
            }
            if (!Names.isValid(node)) {
                throw new AirflowCfgException(
                        src.cfg().origin() + ":" + entry.get().line()
                                + ": scheduler_nodes_in_cluster: \"" + Hocon.oneLine(node)
                                + "\" cannot be an asfc node id"
                                + " (letters, digits, '.', '_' and '-'); name the node and give its address in asfc.node-hosts");
            }
            duplicate |= nodes.contains(node);
            if (!nodes.contains(node)) {
                nodes.add(node);
            }
            if (user != null) {
                users.put(node, user);
            }
        }
        if (nodes.isEmpty()) {
            out.comment("scheduler_nodes_in_cluster is not set: nodes stays empty, so every live agent is eligible,"
                    + " in node id order.");
        } else {
            out.quote(Source.from(FAILOVER, entry.get()));
            out.comment("The first eligible node in this order runs the scheduler.");
            if (local) {
                out.comment("\"localhost\" meant this host to the Python tool; asfc names every node, so it is \""
                        + self + "\" here.");
            }
            if (duplicate) {
                out.comment("A node listed twice is listed once.");
            }
            if (nodes.stream().anyMatch(n -> ADDRESS.matcher(n).matches())) {
                out.comment("These are addresses: an agent names itself after its host name, so give each agent its"
                        + " own entry as node.id.");
            }
            out.set("nodes", Hocon.list(nodes));
        }
        nodeId(nodes);
        sshUsers.putAll(users);
        out.blank();
    }

    private void nodeId(List<String> nodes) {
        if (nodeId.isPresent()) {
            if (!nodes.isEmpty() && !nodes.contains(nodeId.get())) {
                throw new UnknownNodeId(
                        "--node-id " + nodeId.get() + " is not one of scheduler_nodes_in_cluster " + nodes);
            }
            out.comment("from --node-id: this file is for that node only; every node needs its own node.id.");
            out.set("node.id", Hocon.str(nodeId.get()));
            return;
        }
        out.comment("node.id is not set: every agent names itself after its host name (here \"" + hostName
                + "\"), as the Python tool did (socket.gethostname()), so this one file serves every node."
                + " 'asfc-agent get-current-host' shows the name.");
        if (!nodes.isEmpty() && !nodes.contains(hostName)) {
            warnings.add("this host (" + hostName + ") is not one of the nodes " + nodes + ": install the file on"
                    + " those hosts, where each agent takes its host name as node.id, or run again with"
                    + " --node-id NODE to write a file for one node");
        }
    }

    private void ssh() {
        Map<String, String> users = sshUsers;
        out.open("ssh");
        out.comment("Not in airflow.cfg. The Python tool left host keys to ssh, and some versions and forks turned"
                + " the check off (StrictHostKeyChecking=no). asfc checks every node's host key against"
                + " ~/.ssh/known_hosts of the user that runs the agent: add the keys first (ssh-keyscan NODE >>"
                + " ~/.ssh/known_hosts), then try 'asfc-agent test-connection'. asfc logs in as that user with"
                + " its default key (~/.ssh/id_ed25519, id_ecdsa or id_rsa), as ssh did.");
        out.set("strict-host-key-checking", "yes");
        if (!users.isEmpty()) {
            out.comment("from the user@ of scheduler_nodes_in_cluster:");
            out.open("hosts");
            users.forEach((node, user) -> out.set(Hocon.str(node), "{ user = " + Hocon.str(user) + " }"));
            out.close();
        }
        out.close();
    }

    private void zookeeper() {
        Optional<Entry> type = src.takeNonBlank(FAILOVER, "metadata_service_type");
        boolean usedZk = type.map(t -> t.value().strip().equals("ZookeeperMetadataService"))
                .orElse(false);
        type.ifPresent(t -> src.notMapped(
                FAILOVER,
                t,
                "asfc always keeps its state in ZooKeeper (zookeeper.connect); it has no SQL metadata store"));
        Optional<Entry> zk = src.takeNonBlank(FAILOVER, "metadata_service_zookeeper_nodes");
        out.open("zookeeper");
        if (zk.isPresent()) {
            out.quote(Source.from(FAILOVER, zk.get()));
            if (!usedZk) {
                out.comment("CHECK: with metadata_service_type = SQLMetadataService (the default) the Python tool"
                        + " never used this value. asfc needs your ZooKeeper ensemble (3 or 5 servers) here.");
            }
            out.set("connect", Hocon.str(zk.get().value().strip()));
        } else {
            out.comment("SET THIS: metadata_service_zookeeper_nodes is not set. asfc needs your ZooKeeper ensemble"
                    + " (3 or 5 servers), e.g. \"zk1:2181,zk2:2181,zk3:2181\".");
            out.set("connect", Hocon.str("localhost:2181"));
        }
        if (usedZk) {
            out.comment("asfc keeps its state under /airflow/failover/default. It does not read the Python tool's"
                    + " /scheduler_failover_controller znodes: delete them (zkCli: deleteall"
                    + " /scheduler_failover_controller) once every node runs asfc.");
        }
        out.close();
        out.blank();
    }

    private void controller() {
        src.takeNonBlank(FAILOVER, "poll_frequency").ifPresent(e -> {
            int seconds;
            try {
                seconds = Integer.parseInt(e.value().strip());
            } catch (NumberFormatException nfe) {
                seconds = 0;
            }
            if (seconds < 1) {
                src.notMapped(FAILOVER, e, "not a whole number of seconds above 0; asfc's default 30s applies");
                return;
            }
            out.open("controller");
            out.quote(Source.from(FAILOVER, e) + " (seconds)");
            out.comment("How often the ACTIVE controller sweeps every node for a stray scheduler. It no longer"
                    + " decides how fast a failure is seen: an agent sees its own scheduler die at once (child mode;"
                    + " every scheduler.check-interval in command mode), and a lost host is replaced after"
                    + " zookeeper.session-timeout, not after 2 x poll_frequency.");
            out.set("poll-interval", seconds + "s");
            out.close();
            out.blank();
        });
    }

    /** The keys of [scheduler_failover] no mapping used. */
    private void notMapped() {
        for (String key : src.cfg().keys(FAILOVER)) {
            if (!src.isUsed(FAILOVER, key)) {
                src.notMapped(FAILOVER, src.cfg().raw(FAILOVER, key).orElseThrow(), why(key));
            }
        }
        List<String> notes = src.notMapped();
        if (notes.isEmpty()) {
            return;
        }
        out.blank();
        out.comment("Keys asfc does not take over; a bare key is one of [" + FAILOVER + "].");
        notes.forEach(out::quote);
    }

    private String why(String key) {
        String value = src.cfg().raw(FAILOVER, key).orElseThrow().value().strip();
        return switch (key) {
            case "logging_level" -> logLevel(value).equals("INFO")
                    ? "INFO is asfc's default too (ASFC_LOG_LEVEL in conf/asfc-env.sh)"
                    : "set ASFC_LOG_LEVEL=" + logLevel(value) + " in conf/asfc-env.sh (default INFO)";
            case "logging_dir" -> "asfc logs to $ASFC_LOG_DIR (default logs/ in its installation); to log here, set"
                    + " ASFC_LOG_DIR=" + value + " in conf/asfc-env.sh";
            case "logging_file_name" -> "asfc's log file is always asfc-agent.log";
            case "logs_rotate_when" -> "asfc's log rolls at midnight (conf/logback.xml)";
            case "logs_rotate_backup_count" -> "conf/logback.xml keeps 7 days (<maxHistory>)";
            case "is_authenticate", "is_encrypted", "pass_word", "crypt_key" -> "SSH password login (a fork of the"
                    + " Python tool); asfc logs in with SSH keys only";
            default -> "not a setting of the Python failover controller, and asfc has none like it";
        };
    }

    /** Python logging level names → logback's. */
    private static String logLevel(String python) {
        return switch (python.toUpperCase(Locale.ROOT)) {
            case "NOTSET", "DEBUG" -> "DEBUG";
            case "WARN", "WARNING" -> "WARN";
            case "ERROR", "CRITICAL", "FATAL" -> "ERROR";
            default -> "INFO";
        };
    }
}
