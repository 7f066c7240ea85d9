package io.asfc.agent.cli;

import io.asfc.agent.demo.Demo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        description = {
            "Run a live failover demo on this machine.",
            "An embedded ZooKeeper and 3 agents (a, b, c) keep one stand-in Airflow scheduler running.",
            "Kill the ACTIVE agent or the scheduler (keys, or the printed kill commands) and watch the",
            "failover. Needs python3; no root. Ctrl-C or q ends it and removes everything it started."
        })
final class DemoCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path home = AsfcCli.home();
        Path standIn = List.of(
                        home.resolve("demo/airflow_standin.py"),
                        home.resolve("integration-tests/src/main/standin/airflow_standin.py"))
                .stream()
                .filter(Files::isRegularFile)
                .findFirst()
                .orElseThrow(() -> new CliFailure("the demo's stand-in scheduler is missing under " + home));
        if (!onPath("python3")) {
            throw new CliFailure("the demo runs a stand-in scheduler written in Python: install python3 first");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("asfc-demo-");
        Demo demo = new Demo(dir, standIn);
        Thread cleanup = new Thread(demo::closeQuietly, "asfc-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C
        try {
            demo.run(out, keys());
        } finally {
            demo.closeQuietly();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
        out.println("demo ended; removed " + dir);
        return ExitCode.OK.code();
    }

    /** Lines typed on stdin; the reader thread simply ends at end of input. */
    private static BlockingQueue<String> keys() {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in =
                            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            queue.add(line);
                        }
                    } catch (java.io.IOException e) {
                        // stdin closed: the demo runs on until Ctrl-C
                    }
                },
                "asfc-demo-keys");
        reader.setDaemon(true);
        reader.start();
        return queue;
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
