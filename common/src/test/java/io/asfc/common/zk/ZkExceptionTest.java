package io.asfc.common.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

class ZkExceptionTest {

    @Test
    void aCheckedFailureBecomesAZkExceptionNamingThePathAndTheCode() {
        ZkException e = assertThrows(
                ZkException.class,
                () -> ZkException.call("/asfc/c/control", () -> {
                    throw new KeeperException.ConnectionLossException();
                }));

        assertEquals("/asfc/c/control", e.path());
        assertTrue(e.getMessage().startsWith("/asfc/c/control: "), e.getMessage());
        assertEquals(Optional.of(KeeperException.Code.CONNECTIONLOSS), e.code());
    }

    @Test
    void anUncheckedFailurePassesUnchanged() {
        IllegalStateException thrown = new IllegalStateException("fenced");

        RuntimeException e = assertThrows(
                RuntimeException.class,
                () -> ZkException.call("/p", () -> {
                    throw thrown;
                }));

        assertSame(thrown, e);
    }

    @Test
    void anInterruptionKeepsTheInterruptFlag() {
        try {
            ZkException e = assertThrows(
                    ZkException.class,
                    () -> ZkException.call("/p", () -> {
                        throw new InterruptedException();
                    }));

            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt was swallowed");
            assertEquals("/p: interrupted", e.getMessage());
            assertEquals(Optional.empty(), e.code());
        } finally {
            Thread.interrupted(); // clear it for the next test
        }
    }
}
