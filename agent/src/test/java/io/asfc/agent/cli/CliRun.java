package io.asfc.agent.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the command line, with what it printed. */
record CliRun(int exitCode, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AsfcCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** With {@code sysfs} read in place of {@code /sys} (the watchdog device's driver entries). */
    static CliRun withSysfs(java.nio.file.Path sysfs, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AsfcCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), sysfs, args);
        return new CliRun(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
    }
}
