package io.asfc.agent.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Context;
import io.asfc.common.concurrent.Threads;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * {@code %node} in a logback pattern: the node id of the thread's MDC, as asfc's own threads set it,
 * or else the node this process runs as ({@link #setProcessNode}), a logger-context property. MDC is
 * per thread, so the second covers the threads asfc does not create: ZooKeeper's client threads,
 * the JDK's process reapers, the JVM's shutdown hooks. A JVM that runs several agents (tests, the
 * demo) sets no process node; there such threads show none.
 */
public final class NodeConverter extends ClassicConverter {
    /** The logger-context property that holds the process's node id. */
    public static final String PROPERTY = "asfc.node";

    @Override
    public String convert(ILoggingEvent event) {
        String node = event.getMDCPropertyMap().get(Threads.MDC_NODE);
        if (node != null && !node.isEmpty()) {
            return node;
        }
        Context context = getContext();
        String processNode = context == null ? null : context.getProperty(PROPERTY);
        return processNode == null ? "" : processNode;
    }

    /** Names the node this process runs as, for log lines of threads without the node in MDC. */
    public static void setProcessNode(String nodeId) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (factory instanceof LoggerContext context) {
            context.putProperty(PROPERTY, nodeId);
        }
    }
}
