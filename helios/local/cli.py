"""`helios local …`: a whole Helios on this machine, through the supervisor.

    helios local up [GROUP ...]       start the groups (default: infra mesh) and wait for them
    helios local down [GROUP ...]     undo the groups (default: all), newest first; the
                                      supervisor stops with its last process
    helios local status               every process: state, pid, port, health, restarts, memory
    helios local start|stop|restart NAME

The groups are ``infra`` (Kafka, PostgreSQL, Redis), ``mesh`` (the services and the gateway)
and ``kube`` (a single-node Kubernetes, helios/local/kube/). The first `up` starts the supervisor
in the background with this shell's environment (ports, external servers, topic prefix); later
commands talk to it through its socket.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from typing import Any

from helios.local import mesh
from helios.local.layout import Layout
from helios.local.process import Spec
from helios.local.supervisor import leftovers, request, wind_down
from helios.platform.settings import process_env

DEFAULT_GROUPS = ("infra", "mesh")


def add_commands(commands: Any) -> None:
    local = commands.add_parser("local", help="run a whole Helios on this machine")
    actions = local.add_subparsers(dest="action", required=True)
    up = actions.add_parser("up", help="start groups of processes (default: infra mesh; "
                                       "kube: a local Kubernetes)")
    up.add_argument("groups", nargs="*", default=list(DEFAULT_GROUPS))
    down = actions.add_parser("down", help="undo groups (default: all), then the supervisor "
                                           "once nothing runs")
    down.add_argument("groups", nargs="*", default=[])
    actions.add_parser("status", help="every process with its pid, port and health")
    for action in ("start", "stop", "restart"):
        actions.add_parser(action, help=f"{action} one process").add_argument("name")
    actions.add_parser("supervise", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> None:
    layout = Layout.from_env(process_env())
    if args.action == "supervise":
        _supervise(layout)
    elif args.action == "up":
        _ensure_supervisor(layout)
        _show(layout, {"cmd": "up", "groups": args.groups})
        if "mesh" in args.groups:
            _welcome(layout)
    elif args.action == "down":
        _down(layout, args.groups)
    elif args.action == "status":
        sys.exit(_status(layout))
    else:
        _show(layout, {"cmd": args.action, "name": args.name})


def _supervise(layout: Layout) -> None:
    from helios.local import stack
    from helios.local.supervisor import Supervisor
    from helios.platform import logging as helios_logging

    helios_logging.configure("supervisor")
    Supervisor(layout, stack.groups(layout, process_env())).serve()


def _ensure_supervisor(layout: Layout) -> None:
    """Starts the supervisor unless one answers; one at a time (tests and `make up` may ask at
    once), under a lock."""
    layout.run.mkdir(parents=True, exist_ok=True)
    with (layout.run / "supervisor.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(layout):
            return
        stopped = leftovers(layout)
        if stopped:
            print(f"stopped {stopped} process(es) a previous supervisor left running")
        log = layout.log("supervisor")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            daemon = subprocess.Popen([str(mesh.HELIOS), "local", "supervise"],
                                      stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while not _answers(layout):
            if daemon.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                sys.exit(f"helios: the supervisor did not start; {log}:\n{tail}")
            time.sleep(0.1)


def _answers(layout: Layout) -> bool:
    try:
        list(request(layout, {"cmd": "status"}, timeout=10))
    except (ConnectionError, OSError):
        return False
    return True


def _show(layout: Layout, message: dict[str, Any]) -> None:
    """Sends a request and prints its events as they come."""
    try:
        for event in request(layout, message):
            print(_describe(event), flush=True)
    except ConnectionError as exc:
        sys.exit(f"helios: {exc} (helios local up starts one)")
    except RuntimeError as exc:
        sys.exit(f"helios: {exc}")


def _describe(event: dict[str, Any]) -> str:
    kind, name = event["event"], event.get("name", "")
    if kind == "ready":
        took = f" in {event['seconds']}s" if "seconds" in event else ""
        return f"  {name:<10} ready{took} (pid {event['pid']})"
    if kind == "running":
        return f"  {name:<10} already running (pid {event['pid']})"
    if kind == "external":
        return f"  {name:<10} external, answering: {event['where']}"
    if kind in ("task", "teardown"):
        return f"  {name:<10} {event['said']}"
    if kind == "exiting":
        return "  supervisor stopping: nothing left to run"
    if kind == "stopped":
        return f"  {name:<10} stopped (exit status {event['status']})"
    return str(event)


def _down(layout: Layout, groups: list[str]) -> None:
    try:
        pid = int((layout.run / "supervisor.pid").read_text())
    except (FileNotFoundError, ValueError):
        pid = 0
    exiting = False
    try:
        for event in request(layout, {"cmd": "down", "groups": groups}):
            exiting = exiting or event["event"] == "exiting"
            print(_describe(event), flush=True)
    except ConnectionError:
        _down_without_supervisor(layout, groups)
        return
    except RuntimeError as exc:
        sys.exit(f"helios: {exc}")
    # The supervisor exits once it has answered.
    for _ in range(100):
        if not exiting or not pid or not _alive(pid):
            break
        time.sleep(0.1)


def _down_without_supervisor(layout: Layout, groups: list[str]) -> None:
    """What a dead supervisor left: its processes, stopped in each group's order, and the
    groups' teardowns (the local Kubernetes' mounts and rules outlive its processes)."""
    from helios.local import stack

    defined = stack.groups(layout, process_env())
    unknown = [group for group in groups if group not in defined]
    if unknown:
        sys.exit(f"helios: no group {unknown[0]!r} (there are: {', '.join(defined)})")
    stopped = 0

    def stop(spec: Spec) -> None:
        nonlocal stopped
        stopped += leftovers(layout, [spec.name])

    def emit(event: dict[str, Any]) -> None:
        print(_describe(event), flush=True)

    failed = []
    for group in [name for name in reversed(list(defined)) if not groups or name in groups]:
        failed += wind_down(defined[group], stop, emit)
    if not groups:
        stopped += leftovers(layout)
    print(f"no supervisor running; stopped {stopped} process(es) it had left"
          if stopped else "no supervisor running, no process left")
    if failed:
        sys.exit(f"helios: {'; '.join(failed)}")


def _alive(pid: int) -> bool:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, 0)
        return True
    return False


def _status(layout: Layout) -> int:
    try:
        (event,) = request(layout, {"cmd": "status"}, timeout=30)
    except ConnectionError:
        print("no supervisor is running (helios local up starts one)")
        return 1
    rows = event["rows"]
    # kube-controller-manager is the longest name so far.
    width = max([10, *(len(row["name"]) for row in rows)])
    print(f"{'name':<{width}} {'state':<10} {'pid':>7} {'port':>6} {'health':<8} "
          f"{'restarts':>8} {'uptime':>7} {'rss MB':>7}  where")
    for row in rows:
        health = "ok" if row["healthy"] else "FAILING"
        if row["state"] == "external":
            print(f"{row['name']:<{width}} {'external':<10} {'':>7} {'':>6} {health:<8} "
                  f"{'':>8} {'':>7} {'':>7}  {row['where']}")
            continue
        print(f"{row['name']:<{width}} {row['state']:<10} {row['pid'] or '-':>7} "
              f"{row['port'] or '-':>6} {health:<8} {row['restarts']:>8} "
              f"{row['uptime']:>6}s {row['rss_mb']:>7}  {row['log']}")
    return 0 if all(row["healthy"] for row in rows) else 1


def _welcome(layout: Layout) -> None:
    from helios.bidder.settings import Settings as Bidder
    from helios.gateway import credentials
    from helios.gateway.settings import GatewaySettings

    gateway = GatewaySettings.from_env(process_env())
    port, tls = gateway.port, gateway.tls_port
    bidder = Bidder.from_env(process_env()).grpc_port
    print(f"""
Helios is up. Send a bid:
  curl -s -XPOST localhost:{port}/bid -H 'content-type: application/json' \\
       -d '{{"request_id":"r1","user_id":"user-001"}}'
Read it back a moment later (the analytics API needs a bearer token; `helios token` prints one):
  curl -s -H "authorization: Bearer $(helios token)" \\
       'localhost:{port}/api/outcomes?user_id=user-001'
HTTPS, verified against the local CA:
  curl -s --cacert {credentials.ca_path(gateway)} -H "authorization: Bearer $(helios token)" \\
       https://localhost:{tls}/api/outcomes/stats
Dashboard (the link carries a token valid for a day): http://localhost:{port}/#token={credentials.token(gateway)}
gRPC: grpcurl -plaintext localhost:{bidder} list     Status: make status
Logs: {layout.logs}/   Stop everything: make down""")
