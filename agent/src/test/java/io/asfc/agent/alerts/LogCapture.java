package io.asfc.agent.alerts;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** Collects what the named loggers log while it is open, at the given level and above. */
final class LogCapture implements AutoCloseable {
    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> previous = new ArrayList<>();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(Level level, String... names) {
        appender.list = new CopyOnWriteArrayList<>(); // appended to by the alert thread, read by the test
        appender.start();
        for (String name : names) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            loggers.add(logger);
            previous.add(logger.getLevel());
            logger.setLevel(level);
            logger.addAppender(appender);
        }
    }

    static LogCapture of(Level level, String... loggerNames) {
        return new LogCapture(level, loggerNames);
    }

    static LogCapture of(Class<?> type) {
        return new LogCapture(Level.DEBUG, type.getName());
    }

    List<ILoggingEvent> events() {
        return List.copyOf(appender.list);
    }

    /** The formatted messages at this level. */
    List<String> messages(Level level) {
        return events().stream()
                .filter(e -> e.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    long count(Level level, String fragment) {
        return messages(level).stream().filter(m -> m.contains(fragment)).count();
    }

    /** Everything logged, with the messages of attached exceptions, as one text. */
    String everything() {
        StringBuilder text = new StringBuilder();
        for (ILoggingEvent e : events()) {
            text.append(e.getLoggerName())
                    .append(' ')
                    .append(e.getFormattedMessage())
                    .append('\n');
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                text.append("  ")
                        .append(t.getClassName())
                        .append(": ")
                        .append(t.getMessage())
                        .append('\n');
            }
        }
        return text.toString();
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(previous.get(i));
        }
        appender.stop();
    }
}
