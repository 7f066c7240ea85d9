#!/usr/bin/env python3
"""A stand-in for `airflow scheduler`, for asfc's tests. Python 3 standard library only.

It mimics the process tree asfc must detect and stop:
  airflow scheduler ...                                  (main)
  ├── airflow scheduler -- DagFileProcessorManager       (own process group)
  │   └── airflow scheduler - DagFileProcessor /dags/x.py
  └── airflow worker -- LocalExecutor
and, like a scheduler heartbeating into its database, appends "<host> <epoch-ms> <pid>" to a
shared tick file every 50 ms.

Options:
  --health-port N        serve /health (status code: 200 healthy, 503 unhealthy; also the JSON of
                         the Airflow 2 webserver) and /api/v2/monitor/health (Airflow 3 JSON)
  --health-format F      status-code | airflow-json (what /health returns; default status-code)
  --tick-file FILE       where to append ticks
  --host NAME            the host name written in ticks (default: this host's name)
  --control FILE         polled every 50 ms: "crash" exits at once (leaving children behind, as a
                         real crash does), "hang" stops ticking and turns health to 503, "ok" resumes
  --fail-at-start        exit with status 2 at once
  --ignore-term          ignore SIGTERM everywhere (to test the SIGKILL escalation)
  --term-delay SECONDS   the main process exits only this long after the first SIGTERM (like a
                         scheduler that waits for its executor's tasks on shutdown); it keeps
                         ticking meanwhile, then stops its children and exits as without the option
  --term-delay-file FILE read at SIGTERM: when it exists and holds a number of seconds, behave as
                         --term-delay with that number (so a test can make one host's scheduler slow
                         to exit without restarting it)
  --worker-ignores-term  the worker behaves like Airflow 3.3's LocalExecutor workers: it ignores
                         SIGTERM, lives on when orphaned, and ends only when its main tells it to
                         (SIGUSR1 here, standing in for the LocalExecutor's stop message on SIGTERM)
  --daemon               fork into the background and return at once (like `airflow scheduler -D`)
  --pid-file FILE        write the main pid here (with --daemon, before the parent returns)
  --lifetime-lock FILE   the test's witness of S1 (lifetime_lock.py, next to this file): the main process
                         holds record locks on FILE for as long as it lives, and appends to FILE.journal
"""
import argparse
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

TITLE_MAIN = "airflow scheduler"
TITLE_MANAGER = "airflow scheduler -- DagFileProcessorManager"
TITLE_PROCESSOR = "airflow scheduler - DagFileProcessor /dags/example_dag.py"
TITLE_WORKER = "airflow worker -- LocalExecutor"
SCRIPT = os.path.abspath(__file__)
# The interpreter itself: sys.executable is derived from argv[0], which we replace by a title.
PYTHON = os.path.realpath("/proc/self/exe")
TITLED = "ASFC_STANDIN_TITLED"
LIFETIME_FD = "ASFC_STANDIN_LIFETIME_FD"

state = {"hung": False, "stopping": False, "worker_ignores_term": False, "exit_at": None}
children = []


def spawn(title, role, own_group, ignore_term, worker_ignores_term=False):
    args = [title, SCRIPT, "--role", role] + (["--ignore-term"] if ignore_term else [])
    args += ["--worker-ignores-term"] if worker_ignores_term else []
    kwargs = {"executable": PYTHON, "stdin": subprocess.DEVNULL}
    if own_group:
        kwargs["preexec_fn"] = os.setpgrp
    return subprocess.Popen(args, **kwargs)


def helper(role, ignore_term, worker_ignores_term):
    """Manager, processor and worker: live until told to stop (or killed)."""
    if worker_ignores_term:
        # Airflow 3.3's workers inherit the scheduler's SIGTERM handler, which returns at once outside
        # the main process; they block on their task queue, whose write end they hold themselves.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, lambda *_: os._exit(0))
        while True:
            signal.pause()
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if role == "manager":
        spawn(TITLE_PROCESSOR, "processor", False, ignore_term)
    while True:
        time.sleep(1)
        if os.getppid() == 1 and role != "manager":
            # like Airflow's helpers, exit once the parent is gone for good
            os._exit(0)


class Health(http.server.BaseHTTPRequestHandler):
    fmt = "status-code"

    def do_GET(self):
        healthy = not state["hung"]
        status = "healthy" if healthy else "unhealthy"
        body = {
            "metadatabase": {"status": "healthy"},
            "scheduler": {"status": status, "latest_scheduler_heartbeat": time.strftime("%Y-%m-%dT%H:%M:%S+00:00")},
        }
        if self.path.startswith("/api/v2/monitor/health"):
            code = 200
        elif self.path.startswith("/health"):
            code = (200 if healthy else 503) if Health.fmt == "status-code" else 200
            if Health.fmt == "status-code":
                body = {"status": status}
        else:
            code, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def stop_children_and_exit(*_):
    state["stopping"] = True
    for child in children:
        try:
            os.kill(child.pid, signal.SIGTERM)
            if state["worker_ignores_term"]:
                os.kill(child.pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass
    os._exit(0)


def delayed_exit(delay):
    """SIGTERM handler of --term-delay: note when to exit; the main loop does it."""

    def on_term(*_):
        if state["exit_at"] is None:
            state["exit_at"] = time.monotonic() + delay

    return on_term


def term_by_file(path):
    """SIGTERM handler of --term-delay-file: a delay when the file says so, else a plain stop."""

    def on_term(signum, frame):
        try:
            with open(path) as f:
                delay = float(f.read().strip())
        except (OSError, ValueError):
            delay = 0
        if delay > 0:
            delayed_exit(delay)(signum, frame)
        else:
            stop_children_and_exit(signum, frame)

    return on_term


def daemonize(pid_file):
    """--daemon: fork into the background; only the daemon returns. The parent returns like
    `airflow scheduler -D`, once the daemon wrote its pid file. This runs before the main process
    takes its title, so that only the daemon ever looks like a scheduler, never the parents that
    are about to exit (a title-based observer would count them as a second scheduler)."""
    if os.fork() > 0:
        deadline = time.time() + 5
        while pid_file and not os.path.exists(pid_file) and time.time() < deadline:
            time.sleep(0.02)
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)


def main(opts):
    if opts.lifetime_lock:
        # taken before the re-exec (see __main__), kept across it; the helpers need not inherit the file
        os.set_inheritable(int(os.environ.pop(LIFETIME_FD)), False)
    if opts.fail_at_start:
        print("stand-in: failing at start as told", file=sys.stderr)
        sys.exit(2)
    if opts.pid_file:
        with open(opts.pid_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(opts.pid_file + ".tmp", opts.pid_file)
    if opts.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif opts.term_delay > 0:
        signal.signal(signal.SIGTERM, delayed_exit(opts.term_delay))
    elif opts.term_delay_file:
        signal.signal(signal.SIGTERM, term_by_file(opts.term_delay_file))
    else:
        signal.signal(signal.SIGTERM, stop_children_and_exit)
    children.append(spawn(TITLE_MANAGER, "manager", True, opts.ignore_term))
    state["worker_ignores_term"] = opts.worker_ignores_term
    children.append(spawn(TITLE_WORKER, "worker", False, opts.ignore_term, opts.worker_ignores_term))
    if opts.health_port:
        Health.fmt = opts.health_format
        server = http.server.ThreadingHTTPServer(("127.0.0.1", opts.health_port), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    host = opts.host or socket.gethostname()
    tick = None
    if opts.tick_file:
        tick = os.open(opts.tick_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    while True:
        if state["exit_at"] is not None and time.monotonic() >= state["exit_at"]:
            stop_children_and_exit()
        if opts.control and os.path.exists(opts.control):
            with open(opts.control) as f:
                command = f.read().strip()
            if command == "crash":
                os._exit(1)
            state["hung"] = command == "hang"
        if tick is not None and not state["hung"]:
            os.write(tick, ("%s %d %d\n" % (host, int(time.time() * 1000), os.getpid())).encode())
        time.sleep(0.05)


def parse(argv):
    p = argparse.ArgumentParser(description="stand-in for airflow scheduler")
    p.add_argument("--role", default="main")
    p.add_argument("--health-port", type=int, default=0)
    p.add_argument("--health-format", default="status-code", choices=["status-code", "airflow-json"])
    p.add_argument("--tick-file")
    p.add_argument("--host")
    p.add_argument("--control")
    p.add_argument("--fail-at-start", action="store_true")
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--term-delay", type=float, default=0)
    p.add_argument("--term-delay-file")
    p.add_argument("--worker-ignores-term", action="store_true")
    p.add_argument("--daemon", action="store_true")
    p.add_argument("--pid-file")
    p.add_argument("--lifetime-lock")
    return p.parse_args(argv)


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    if options.role != "main":
        helper(options.role, options.ignore_term, options.worker_ignores_term)
    elif os.environ.get(TITLED) != str(os.getpid()):
        if options.daemon and not options.fail_at_start:
            daemonize(options.pid_file)
        if options.lifetime_lock:
            # the first act of the process that will be the scheduler (after the daemon's forks); imported here
            # only, so that the stand-in copied without lifetime_lock.py runs as long as it is not asked for the lock
            sys.path.insert(0, os.path.dirname(SCRIPT))
            import lifetime_lock

            fd, _ = lifetime_lock.take(options.lifetime_lock, options.host or socket.gethostname())
            os.set_inheritable(fd, True)
            os.environ[LIFETIME_FD] = str(fd)
        # re-exec (same pid) so that the main process is titled like the real scheduler
        os.environ[TITLED] = str(os.getpid())
        os.execv(PYTHON, [TITLE_MAIN, SCRIPT] + sys.argv[1:])
    else:
        main(options)
