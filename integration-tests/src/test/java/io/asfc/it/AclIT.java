package io.asfc.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code zookeeper.auth} and {@code acl = creator}, ZooKeeper's own zkCli, unauthenticated, can
 * read asfc's znodes but can neither {@code set} nor {@code delete} them.
 */
class AclIT {
    private static final String ROOT = "/airflow/failover/default";

    @TempDir
    Path dir;

    private OneAgent cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = OneAgent.prepare(dir);
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void unauthenticatedZkCliCannotSetOrDeleteTheZnodes() throws Exception {
        LocalAgent agent = cluster.start(
                """
                asfc.zookeeper {
                  auth { user = "asfc", password = "s3cret-zk" }
                  acl = creator
                }
                """);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> zkCli("get", ROOT + "/scheduler").stdout().contains("\"node\":\"a\""));

        CommandResult before = zkCli("ls", "-R", ROOT);
        CommandResult acl = zkCli("getAcl", ROOT + "/scheduler");
        CommandResult set = zkCli("set", ROOT + "/scheduler", "{\"node\":\"zz\"}");
        CommandResult delete = zkCli("delete", ROOT + "/epoch");
        CommandResult deleteAll = zkCli("deleteall", ROOT);
        CommandResult after = zkCli("get", ROOT + "/scheduler");
        CommandResult afterTree = zkCli("ls", "-R", ROOT);

        assertTrue(said(acl).contains("'digest,'asfc:"), acl::describe);
        assertTrue(said(acl).contains("'world,'anyone\n: r"), acl::describe);
        assertTrue(said(set).contains("Insufficient permission"), set::describe);
        assertTrue(said(delete).contains("Insufficient permission"), delete::describe);
        assertTrue(said(deleteAll).contains("Failed to delete some node(s)"), deleteAll::describe);
        assertEquals(tree(before), tree(afterTree), "not one znode was deleted");
        assertTrue(tree(before).contains(ROOT + "/epoch"), before::describe);
        assertTrue(said(after).contains("\"node\":\"a\""), after::describe);
        assertTrue(agent.logContains("ACTIVE") || agent.logContains("leader"), agent::logTails);
        assertTrue(!agent.logContains("s3cret-zk"), "the password never reaches the log");
    }

    /** The znode paths that {@code ls -R} listed. */
    private static List<String> tree(CommandResult ls) {
        return ls.stdout().lines().filter(l -> l.startsWith("/")).sorted().toList();
    }

    /** zkCli prints data on stdout and errors on stderr. */
    private static String said(CommandResult r) {
        return r.stdout() + r.stderr();
    }

    private CommandResult zkCli(String... command) throws Exception {
        return cluster.dist().zkCli(cluster.connectString(), dir, command);
    }
}
