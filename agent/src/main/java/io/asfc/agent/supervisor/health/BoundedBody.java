package io.asfc.agent.supervisor.health;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A response body read up to a limit, so that a misbehaving endpoint cannot exhaust memory.
 *
 * @param truncated the body was longer than the limit; {@code bytes} holds its first part
 */
record BoundedBody(byte[] bytes, boolean truncated) {

    /** Creates one per request: {@link #abort()} stops reading, which closes the connection. */
    static final class Handler implements HttpResponse.BodyHandler<BoundedBody> {
        private final int limit;
        private final AtomicReference<Reader> reader = new AtomicReference<>();

        Handler(int limit) {
            this.limit = limit;
        }

        @Override
        public BodySubscriber<BoundedBody> apply(ResponseInfo info) {
            Reader created = new Reader(limit);
            reader.set(created);
            return created;
        }

        void abort() {
            Reader current = reader.get();
            if (current != null) {
                current.abort();
            }
        }
    }

    /** Requests one buffer at a time and cancels the subscription once the limit is passed. */
    private static final class Reader implements BodySubscriber<BoundedBody> {
        private final int limit;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<BoundedBody> result = new CompletableFuture<>();
        private final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();

        Reader(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<BoundedBody> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (!subscription.compareAndSet(null, s) || result.isDone()) {
                s.cancel();
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer buffer : buffers) {
                int take = Math.min(limit - out.size(), buffer.remaining());
                byte[] chunk = new byte[take];
                buffer.get(chunk);
                out.write(chunk, 0, take);
                if (buffer.hasRemaining()) {
                    subscription.get().cancel();
                    result.complete(new BoundedBody(out.toByteArray(), true));
                    return;
                }
            }
            subscription.get().request(1);
        }

        @Override
        public void onError(Throwable failure) {
            result.completeExceptionally(failure);
        }

        @Override
        public void onComplete() {
            result.complete(new BoundedBody(out.toByteArray(), false));
        }

        void abort() {
            result.cancel(false);
            Flow.Subscription s = subscription.get();
            if (s != null) {
                s.cancel();
            }
        }
    }
}
