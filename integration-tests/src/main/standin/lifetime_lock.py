"""The schedulers' lifetime lock: the kernel's account of S1, for asfc's tests. Python 3 standard library only.

Used by the stand-in scheduler (airflow_standin.py --lifetime-lock FILE) and by lifetime_exec.py, which puts it in
front of a real `airflow scheduler`. The test reads the journal with io.asfc.common.testing.Lifetimes.

Every scheduler main process takes, as its first act, POSIX record locks (fcntl) on one file that the test shares
between all its schedulers (on every host: the file system is shared, and so is the kernel that keeps the locks):
  - its "slot", a random byte >= 2 of its own, exclusive, for its whole life: the test waits on it (a shared lock)
    to learn the instant the process died;
  - byte 0, shared, for its whole life: every scheduler process alive holds it;
  - byte 1, "the door", exclusive, for a few microseconds only: while it holds the door, the process tries byte 0
    exclusively, without waiting. If it gets it, no other scheduler process is alive ("held"); if not, another one is
    alive right now, an overlap ("waiting"). Either way it then holds byte 0 shared, appends "held|waiting pid host
    slot ns" (ns: CLOCK_MONOTONIC, the clock of Java's System.nanoTime) to FILE.journal, and leaves the door.
The door puts the journal in the order in which the processes tried byte 0, so the test knows which processes were
alive when a "waiting" one started: those journaled before it whose slot was not yet free. (A process that dies
inside the door before it journaled was seen by no other: none could try byte 0 meanwhile.) The overlap of a waiting
process ends when it dies or when the last of those dies, whichever comes first; the test learns both from the slots
and needs nothing more from the process, so the process may exec into another program at once (POSIX locks survive
execve as long as the file stays open).

The kernel drops the locks exactly when the process ends, however it ends (SIGKILL included); a process that is
shutting down still holds them. POSIX locks belong to the process: a fork never inherits them, so the scheduler's
children never hold them. Closing any descriptor of the lock file in the process drops all its locks: the file is
opened once, and the descriptor must stay open (inheritable across exec).
"""
import fcntl
import os
import random
import time

ALIVE = 0
DOOR = 1


def journal(lock_path, words):
    """One line appended to the lifetime journal, in one write (O_APPEND: lines never interleave)."""
    fd = os.open(lock_path + ".journal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (" ".join(str(w) for w in words) + "\n").encode())
    finally:
        os.close(fd)


def take(lock_path, host):
    """Takes the lifetime lock for this process (see above) and journals whether another scheduler is alive.
    Returns the open lock file, which must stay open for the process's whole life, and whether it found another
    scheduler process alive."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    slot = random.randint(2, 1 << 40)  # not the pid: PIDs repeat across the proving ground's hosts
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, DOOR)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, ALIVE)
            waiting = False
        except OSError:
            waiting = True
        # from exclusive to shared in one step (or shared next to the others': inside the door nobody holds it
        # exclusively)
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, ALIVE)
        journal(lock_path, ["waiting" if waiting else "held", os.getpid(), host, slot, time.monotonic_ns()])
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, DOOR)
    return fd, waiting
