#!/usr/bin/env python3
"""A process-table sampler for the tests' S1 observers, outside their JVM.

A sampler inside the test's JVM stops whenever that JVM does (GC, safepoints, a loaded machine):
gaps of 100-600 ms were seen, long enough to hide an overlap. This one runs in a process of its
own, at real-time priority (SCHED_FIFO) when allowed, else at nice -20, and writes what it saw to
stdout; its timestamps are CLOCK_MONOTONIC, the clock of Java's System.nanoTime(), so the JVM can
read the samples late without making them late.

Every PERIOD it lists /proc and reports the processes whose command line contains one of the
--match strings. It reads, per scan: the stat line of every matched process (a zombie, a new
parent or session shows at once); the command line and stat line of every process first seen less
than --young seconds ago (a fork that execs, an interpreter that re-executes itself with a title);
and a few others in turn, so that every process's command line is read again at least every
--sweep seconds (a process that takes a matching title late is still seen). Nothing else is read:
a scan of a busy machine stays around a millisecond.

The reads run on a pool of threads, and a scan waits for them for half a period at most: reading
/proc/<pid>/cmdline waits while that process's memory map is write-locked (an exec, a large mmap),
seen to take 100 ms and more on a loaded machine. Such a process keeps what the last sample said of
it until its read returns (a new one is reported from then on); the sample itself comes on time,
and says how many reads were still waiting.

Output, one line each, fields separated by spaces:
  H <own pid> <policy> <period ms>                    once, first
  P <pid> <ppid> <pgrp> <sid> <state> <starttime> <pid-namespace> <argv as hex, NUL-separated>
                                                      a matched process, new or changed
  X <pid>                                             a matched process gone, or no longer matching
  S <scan began, ns> <scan ended, ns> <reads waiting>  a sample: the P/X lines before it are its changes
  E <message>                                         a failure; the sampler then exits 1
It exits when stdout is closed or its parent is gone.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait

PROC = "/proc"


def parse(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--match", action="append", default=[], help="a command-line substring to report")
    p.add_argument("--period-ms", type=int, default=10)
    p.add_argument("--young", type=float, default=5.0, help="seconds a new process is read every scan")
    p.add_argument("--sweep", type=float, default=1.0, help="seconds to read every command line again")
    p.add_argument("--stall-after", type=int, default=-1, help="test only: stop for --stall-ms after N samples")
    p.add_argument("--stall-ms", type=int, default=0)
    return p.parse_args(argv)


def raise_priority():
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        return "fifo"
    except (OSError, AttributeError):
        pass
    try:
        os.nice(-20)
        return "nice-20"
    except OSError:
        return "normal"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def stat_fields(pid):
    """(state, ppid, pgrp, sid, starttime) of a process, or None once it is gone."""
    try:
        raw = read("%s/%d/stat" % (PROC, pid))
    except OSError:
        return None
    f = raw[raw.rindex(b")") + 2:].split(b" ")
    return (f[0].decode(), int(f[1]), int(f[2]), int(f[3]), int(f[19]))


def cmdline(pid):
    try:
        return read("%s/%d/cmdline" % (PROC, pid))
    except OSError:
        return None


def namespace(pid):
    try:
        return os.readlink("%s/%d/ns/pid" % (PROC, pid))  # "pid:[4026531836]"
    except OSError:
        return "-"  # gone, or a zombie


def look(pid, argv, read_argv, matches, ns):
    """Reads a process: its command line when asked (else argv is kept), then, if it matches, its stat line and PID
    namespace. Runs on a reader thread: a read of /proc/<pid>/cmdline waits while that process's memory map is
    write-locked (an exec, a large mmap), for 100 ms and more on a loaded machine."""
    if read_argv:
        argv = cmdline(pid)
    if argv is None or not any(m in argv for m in matches):
        return argv, None, None
    return argv, stat_fields(pid), ns if ns not in (None, "-") else namespace(pid)


class Sampler:
    def __init__(self, options, out):
        self.matches = [m.encode() for m in options.match]
        self.young_ns = int(options.young * 1e9)
        self.period_ns = options.period_ms * 1_000_000
        self.sweep_ns = int(options.sweep * 1e9)
        self.wait_s = options.period_ms / 1000 / 2
        self.out = out
        self.me = os.getpid()
        self.pool = ThreadPoolExecutor(max_workers=8)
        self.first_seen = {}  # pid -> ns
        self.argv = {}  # pid -> bytes (last read command line)
        self.reported = {}  # pid -> the P line last written
        self.pending = {}  # pid -> the future of a read not finished by the end of its scan
        self.namespaces = {}  # pid -> its PID namespace (read once: it never changes)
        self.order = []  # pids for the sweep, in turn
        self.cursor = 0

    def scan(self, now):
        """The P and X lines of one scan. A read still blocked when half a period has passed is left to finish
        later: the process keeps what the last sample said of it (a new one is not reported yet)."""
        pids = [int(n) for n in os.listdir(PROC) if n.isdigit()]
        live = set(pids)
        lines = []
        for pid in [p for p in self.first_seen if p not in live]:
            lines += self.forget(pid)
        for pid in pids:
            if pid not in self.first_seen and pid != self.me:
                self.first_seen[pid] = now
                self.order.append(pid)
        # the sweep: enough old processes per scan to read each again within --sweep
        per_scan = len(self.order) * self.period_ns // max(self.sweep_ns, 1) + 1
        swept = set()
        for _ in range(min(per_scan, len(self.order))):
            self.cursor %= len(self.order)
            swept.add(self.order[self.cursor])
            self.cursor += 1
        for pid in self.first_seen:
            if pid in self.pending:
                continue
            read_argv = now - self.first_seen[pid] < self.young_ns or pid in swept or pid not in self.argv
            if read_argv or pid in self.reported:
                self.pending[pid] = self.pool.submit(
                    look, pid, self.argv.get(pid), read_argv, self.matches, self.namespaces.get(pid))
        wait(list(self.pending.values()), timeout=self.wait_s)
        for pid, future in list(self.pending.items()):
            if future.done():
                del self.pending[pid]
                lines += self.apply(pid, *future.result())
        return lines

    def apply(self, pid, argv, st, ns):
        if pid not in self.first_seen:
            return []  # gone meanwhile
        self.argv[pid] = argv
        if ns is not None:
            self.namespaces[pid] = ns
        if st is None:  # not matching, or gone since the listing (the next scan forgets it)
            if pid in self.reported:
                del self.reported[pid]
                return ["X %d" % pid]
            return []
        line = "P %d %d %d %d %s %d %s %s" % (pid, st[1], st[2], st[3], st[0], st[4], ns, argv.hex())
        if self.reported.get(pid) == line:
            return []
        self.reported[pid] = line
        return [line]

    def forget(self, pid):
        del self.first_seen[pid]
        self.argv.pop(pid, None)
        self.pending.pop(pid, None)
        self.namespaces.pop(pid, None)
        self.order.remove(pid)
        if pid in self.reported:
            del self.reported[pid]
            return ["X %d" % pid]
        return []


def main():
    options = parse(sys.argv[1:])
    policy = raise_priority()
    out = sys.stdout
    parent = os.getppid()
    period = options.period_ms * 1_000_000
    out.write("H %d %s %d\n" % (os.getpid(), policy, options.period_ms))
    out.flush()
    sampler = Sampler(options, out)
    samples = 0
    next_at = time.monotonic_ns()
    try:
        while os.getppid() == parent:
            if samples == options.stall_after:
                time.sleep(options.stall_ms / 1000)
            began = time.monotonic_ns()
            for line in sampler.scan(began):
                out.write(line + "\n")
            out.write("S %d %d %d\n" % (began, time.monotonic_ns(), len(sampler.pending)))
            out.flush()
            samples += 1
            next_at = max(next_at + period, time.monotonic_ns())
            time.sleep(max(0, next_at - time.monotonic_ns()) / 1e9)
    except BrokenPipeError:
        return 0
    except Exception as e:  # reported, and fatal to the observer's result
        try:
            out.write("E %s: %s\n" % (type(e).__name__, e))
            out.flush()
        except BrokenPipeError:
            pass
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
