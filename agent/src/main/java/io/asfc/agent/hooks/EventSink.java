package io.asfc.agent.hooks;

import java.io.Closeable;

/** Where hooks send events: a command, a webhook. */
interface EventSink extends Closeable {
    /** Queues the event; never blocks and never throws. A full queue drops an event and counts it. */
    void offer(HookEvent event);

    /** Gives queued work a short bound to finish, then stops it. */
    @Override
    void close();
}
