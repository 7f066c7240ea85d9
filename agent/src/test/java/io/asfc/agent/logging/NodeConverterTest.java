package io.asfc.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.asfc.common.concurrent.Threads;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeConverterTest {
    private final LoggerContext context = new LoggerContext();
    private final NodeConverter converter = new NodeConverter();

    NodeConverterTest() {
        converter.setContext(context);
        converter.start();
    }

    @Test
    void aThreadWithTheNodeInMdcShowsIt() {
        context.putProperty(NodeConverter.PROPERTY, "process-node");

        assertEquals("b", converter.convert(event(Map.of(Threads.MDC_NODE, "b"))));
    }

    @Test
    void aThreadWeDidNotCreateShowsTheProcessNode() {
        context.putProperty(NodeConverter.PROPERTY, "a");

        assertEquals("a", converter.convert(event(Map.of())));
    }

    @Test
    void withoutEitherItShowsNothing() {
        assertEquals("", converter.convert(event(Map.of())));
    }

    private LoggingEvent event(Map<String, String> mdc) {
        LoggingEvent event = new LoggingEvent();
        event.setLoggerContext(context);
        event.setLevel(Level.INFO);
        event.setMessage("m");
        event.setMDCPropertyMap(mdc);
        return event;
    }
}
