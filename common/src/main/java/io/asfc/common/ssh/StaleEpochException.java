package io.asfc.common.ssh;

/**
 * A start refused by the host's fencing token: a leader with a newer epoch fenced that host (a host
 * stop or a stray stop) after this start's leadership proved itself. Nothing was started.
 */
public final class StaleEpochException extends SshException {
    private final long epoch;
    private final long recorded;

    public StaleEpochException(String host, String file, long epoch, long recorded) {
        super(
                Reason.REFUSED,
                "refused on " + host + ": epoch " + epoch + " < recorded " + recorded + " in ~/" + file
                        + ", a newer leader acted here");
        this.epoch = epoch;
        this.recorded = recorded;
    }

    /** The epoch of the refused start. */
    public long epoch() {
        return epoch;
    }

    /** The epoch recorded on the host. */
    public long recorded() {
        return recorded;
    }
}
