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
  --worker-ignores-term  the worker behaves like Airflow 3.3's LocalExecutor workers: it ignores
                         SIGTERM, lives on when orphaned, and ends only when its main tells it to
                         (SIGUSR1 here, standing in for the LocalExecutor's stop message on SIGTERM)
  --daemon               fork into the background and return at once (like `airflow scheduler -D`)
  --pid-file FILE        write the main pid here (with --daemon, before the parent returns)
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

state = {"hung": False, "stopping": False, "worker_ignores_term": False}
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


def main(opts):
    if opts.fail_at_start:
        print("stand-in: failing at start as told", file=sys.stderr)
        sys.exit(2)
    if opts.daemon:
        if os.fork() > 0:
            # parent: wait until the daemon wrote its pid file, then return like `airflow scheduler -D`
            deadline = time.time() + 5
            while opts.pid_file and not os.path.exists(opts.pid_file) and time.time() < deadline:
                time.sleep(0.02)
            os._exit(0)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
    if opts.pid_file:
        with open(opts.pid_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(opts.pid_file + ".tmp", opts.pid_file)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if opts.ignore_term else stop_children_and_exit)
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
    p.add_argument("--worker-ignores-term", action="store_true")
    p.add_argument("--daemon", action="store_true")
    p.add_argument("--pid-file")
    return p.parse_args(argv)


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    if options.role != "main":
        helper(options.role, options.ignore_term, options.worker_ignores_term)
    elif os.environ.get(TITLED) != str(os.getpid()):
        # re-exec (same pid) so that the main process is titled like the real scheduler
        os.environ[TITLED] = str(os.getpid())
        os.execv(PYTHON, [TITLE_MAIN, SCRIPT] + sys.argv[1:])
    else:
        main(options)
