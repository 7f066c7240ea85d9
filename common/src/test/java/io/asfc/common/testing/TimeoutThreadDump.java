package io.asfc.common.testing;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Prints every thread's stack when a test fails on its JUnit timeout ({@code junit.jupiter.execution.timeout.default}
 * in {@code junit-platform.properties}), so that a hang says where it hung. Registered for every test by
 * auto-detection ({@code META-INF/services}).
 */
public final class TimeoutThreadDump implements TestExecutionExceptionHandler {
    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        if (throwable instanceof TimeoutException) {
            StringBuilder dump = new StringBuilder(
                    "=== " + context.getDisplayName() + " timed out (" + throwable.getMessage() + "); threads:\n");
            for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                dump.append(t.getThreadName())
                        .append(" (")
                        .append(t.getThreadState())
                        .append(t.getLockName() == null ? "" : " on " + t.getLockName())
                        .append(")\n");
                for (StackTraceElement e : t.getStackTrace()) {
                    dump.append("    at ").append(e).append('\n');
                }
            }
            System.err.println(dump);
        }
        throw throwable;
    }
}
