package io.asfc.common.process;

/**
 * One process as {@code /proc} describes it.
 *
 * @param startTicks start time in clock ticks since boot: with the pid, it identifies the process
 *     even after the pid is reused
 * @param cmdline the arguments joined by spaces; empty for kernel threads and zombies
 */
public record ProcessInfo(long pid, long ppid, long pgid, long sid, char state, long startTicks, String cmdline) {

    public boolean isZombie() {
        return state == 'Z' || state == 'X';
    }
}
