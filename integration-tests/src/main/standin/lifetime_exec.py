#!/usr/bin/env python3
"""Runs a program as a scheduler that holds the lifetime lock (lifetime_lock.py), for asfc's tests of real Airflow.

  python3 lifetime_exec.py --lifetime-lock FILE --host NODE -- /venv/bin/airflow scheduler

takes the lock and journals "held" or "waiting" exactly as the stand-in scheduler does, then execs the program: the
same process, so the program's main holds the lock from the wrapper's first statement to its own death, and none of
its children ever holds it (POSIX locks are not inherited by a fork). The lock file's descriptor stays open across
the exec (and in the program); the program must not close it, or the kernel drops its locks early.
"""
import argparse
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lifetime_lock  # noqa: E402 (next to this file)


def parse(argv):
    p = argparse.ArgumentParser(description="exec a program that holds the schedulers' lifetime lock")
    p.add_argument("--lifetime-lock", required=True, help="the lock file every scheduler of the test shares")
    p.add_argument("--host", help="the host name written in the journal (default: this host's name)")
    p.add_argument("program", nargs=argparse.REMAINDER, help="-- PROGRAM [ARGS...]")
    opts = p.parse_args(argv)
    if opts.program[:1] == ["--"]:
        opts.program = opts.program[1:]
    if not opts.program:
        p.error("no program to run")
    return opts


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    fd, _ = lifetime_lock.take(options.lifetime_lock, options.host or socket.gethostname())
    os.set_inheritable(fd, True)
    program = options.program[0]
    os.execvp(program, options.program)
