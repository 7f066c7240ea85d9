package io.asfc.agent.alerts;

import java.io.Closeable;

public interface Alerter extends Closeable {
    void raise(Alert alert);

    void recovered(AlertKind kind, String node, String what);

    @Override
    void close();

    static Alerter disabled() {
        return new Alerter() {
            @Override
            public void raise(Alert alert) {}

            @Override
            public void recovered(AlertKind kind, String node, String what) {}

            @Override
            public void close() {}
        };
    }
}
