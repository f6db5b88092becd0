"""The supervisor behind `helios local up`: a background process that starts groups of steps
in order, restarts a process that dies unasked (as Kubernetes would), and answers the CLI over a
Unix socket in the state directory.

A group is a list of steps, each one of:

- a :class:`~helios.local.process.Spec`: a process, started and waited for until it serves;
- an :class:`~helios.local.servers.External`: a server elsewhere, waited for until it answers;
- a :class:`Task`: one-off work between them (create topics, migrate, seed);
- a :class:`Teardown`: work `down` does at that place, a group being undone newest first (the
  local Kubernetes removes its pods after the kubelet stops and before containerd does).

The socket speaks one JSON object per line: a request (``{"cmd": "up", "groups": [...]}``,
``status``, ``start``/``stop``/``restart`` with a ``name``, ``down`` with optional ``groups``),
then events as the work goes (``{"event": "ready", ...}``) and a last ``{"done": true}`` or
``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helios.local.layout import Layout
from helios.local.probes import wait
from helios.local.process import Process, Spec, StartError, stop_pid, usage
from helios.local.servers import External

log = logging.getLogger(__name__)

# Restart delays after a crash: doubling from the first, capped; back to the first once a
# process has served this long.
FIRST_RETRY, LAST_RETRY, STABLE_SECONDS = 0.5, 5.0, 30.0


@dataclass(frozen=True)
class Task:
    """One-off work in a group; ``run`` returns a line saying what it did."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True)
class Teardown:
    """Work `down` does for a group where this step stands (its steps are undone newest
    first); `up` passes over it. ``run`` returns a line saying what it did, and must be safe to
    run when there is nothing to undo."""

    name: str
    run: Callable[[], str]


Step = Spec | External | Task | Teardown
Emit = Callable[[dict[str, Any]], None]


class Supervisor:
    def __init__(self, layout: Layout, groups: Mapping[str, Sequence[Step]]) -> None:
        self._layout = layout
        self._groups = groups
        self._lock = threading.RLock()
        self._processes: dict[str, Process] = {}
        self._externals: dict[str, External] = {}
        self._order: list[str] = []
        self._restarts: dict[str, int] = {}
        self._stopping: set[str] = set()
        self._down = threading.Event()

    # ---- the work ----

    def up(self, names: Sequence[str], emit: Emit) -> None:
        for group in names:
            if group not in self._groups:
                raise KeyError(f"no group {group!r} (there are: {', '.join(self._groups)})")
            for step in self._groups[group]:
                started = time.monotonic()
                if isinstance(step, Teardown):
                    continue
                if isinstance(step, Task):
                    emit({"event": "task", "name": step.name, "said": step.run()})
                elif isinstance(step, External):
                    self._externals[step.name] = step
                    if not wait(step.ready, 30.0):
                        raise TimeoutError(f"{step.name} ({step.where}) does not answer")
                    emit({"event": "external", "name": step.name, "where": step.where})
                elif self._running(step.name):
                    emit({"event": "running", "name": step.name, "pid": self._pid(step.name)})
                else:
                    self._start(step)
                    emit({"event": "ready", "name": step.name, "pid": self._pid(step.name),
                          "seconds": round(time.monotonic() - started, 1)})

    def start(self, name: str, emit: Emit) -> None:
        spec = self._spec(name)
        if self._running(name):
            emit({"event": "running", "name": name, "pid": self._pid(name)})
            return
        self._start(spec)
        emit({"event": "ready", "name": name, "pid": self._pid(name)})

    def stop(self, name: str, emit: Emit) -> None:
        with self._lock:
            process = self._processes.get(name)
            if process is None:
                return
            self._stopping.add(name)
        if process.alive:
            status = process.stop()
            emit({"event": "stopped", "name": name, "status": status})
        self._record()

    def restart(self, name: str, emit: Emit) -> None:
        self.stop(name, emit)
        self.start(name, emit)

    def down(self, emit: Emit, groups: Sequence[str] = ()) -> None:
        """Undoes the named groups (every group when none is named), last defined first, each
        one's steps newest first; once no process is left, lets :meth:`serve` return."""
        for group in groups:
            if group not in self._groups:
                raise KeyError(f"no group {group!r} (there are: {', '.join(self._groups)})")
        chosen = [name for name in reversed(list(self._groups)) if not groups or name in groups]
        failed: list[str] = []
        for group in chosen:
            failed += wind_down(self._groups[group], lambda spec: self.stop(spec.name, emit),
                                emit)
        if not groups:
            for name in reversed(self._order):
                self.stop(name, emit)
        with self._lock:
            idle = not any(process.alive for process in self._processes.values())
        if idle:
            emit({"event": "exiting"})
            self._down.set()
        if failed:
            raise RuntimeError("; ".join(failed))

    def status(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for name, external in self._externals.items():
            rows.append({"name": name, "state": "external", "where": external.where,
                         "healthy": external.ready()})
        for name in self._order:
            process = self._processes[name]
            alive = process.alive
            rss, cpu = usage(process.pid) if alive and process.pid else (0.0, 0.0)
            ready = process.spec.ready
            rows.append({
                "name": name, "pid": process.pid if alive else None,
                "state": "running" if alive else ("stopped" if name in self._stopping
                                                  else "restarting"),
                "port": process.spec.port, "healthy": alive and (ready is None or ready()),
                "restarts": self._restarts.get(name, 0),
                "uptime": round(time.time() - process.started_at) if alive else 0,
                "rss_mb": round(rss, 1), "cpu_seconds": round(cpu, 1),
                "log": str(process.spec.log)})
        return rows

    # ---- processes ----

    def _spec(self, name: str) -> Spec:
        for steps in self._groups.values():
            for step in steps:
                if isinstance(step, Spec) and step.name == name:
                    return step
        raise KeyError(f"no process {name!r}")

    def _running(self, name: str) -> bool:
        with self._lock:
            process = self._processes.get(name)
            return process is not None and process.alive

    def _pid(self, name: str) -> int | None:
        with self._lock:
            return self._processes[name].pid

    def _start(self, spec: Spec) -> None:
        """Starts ``spec`` from a thread of its own that then watches it, and returns once it
        serves. The process must not be a child of a short-lived thread: Envoy asks the
        kernel for SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG)."""
        process = Process(spec)
        with self._lock:
            self._processes[spec.name] = process
            self._stopping.discard(spec.name)
            if spec.name not in self._order:
                self._order.append(spec.name)
        started = threading.Event()
        failure: list[BaseException] = []
        threading.Thread(target=self._watch, args=(process, started, failure),
                         name=f"watch-{spec.name}", daemon=True).start()
        started.wait()
        if failure:
            raise failure[0]
        self._record()

    def _watch(self, process: Process, started: threading.Event,
               failure: list[BaseException]) -> None:
        """Starts ``process``, then waits for it to exit; unless it was asked to, starts it
        again."""
        try:
            process.start()
        except BaseException as exc:
            failure.append(exc)
            return
        finally:
            started.set()
        delay = FIRST_RETRY
        while True:
            assert process.popen is not None
            status = process.popen.wait()
            served = time.time() - process.started_at
            with self._lock:
                if process.name in self._stopping or self._down.is_set():
                    return
                if self._processes.get(process.name) is not process or not process.spec.restart:
                    return
                self._restarts[process.name] = self._restarts.get(process.name, 0) + 1
            if served > STABLE_SECONDS:
                delay = FIRST_RETRY
            log.warning("%s exited with status %s; starting it again in %.1fs",
                        process.name, status, delay)
            time.sleep(delay)
            delay = min(delay * 2, LAST_RETRY)
            try:
                process.start()
            except (StartError, OSError, RuntimeError) as exc:
                log.error("%s did not come back: %s", process.name, exc)
            self._record()

    def _record(self) -> None:
        """The pids, so that `helios local down` can stop what a dead supervisor left."""
        with self._lock:
            state = {name: {"pid": p.pid, "argv0": p.spec.argv[0]}
                     for name, p in self._processes.items() if p.alive}
        path = self._layout.run / "processes.json"
        path.write_text(json.dumps(state, indent=1))

    # ---- the socket ----

    def serve(self) -> None:
        """Answers requests on the socket until ``down`` (or SIGTERM, which means down)."""
        self._layout.run.mkdir(parents=True, exist_ok=True)
        address = socket_path(self._layout)
        with contextlib.suppress(FileNotFoundError):
            address.unlink()
        supervisor = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                def emit(event: dict[str, Any]) -> None:
                    self.wfile.write((json.dumps(event) + "\n").encode())
                    self.wfile.flush()

                try:
                    supervisor._dispatch(json.loads(self.rfile.readline()), emit)
                    emit({"done": True})
                except (StartError, KeyError, RuntimeError, OSError, TimeoutError) as exc:
                    log.error("request failed: %s", exc)
                    with contextlib.suppress(OSError):
                        emit({"error": str(exc)})

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        server = Server(str(address), Handler)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
            target=self.down, args=(lambda event: None,), daemon=True).start())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        (self._layout.run / "supervisor.pid").write_text(str(os.getpid()))
        log.info("supervisor serving on %s", address)
        self._down.wait()
        server.shutdown()
        address.unlink(missing_ok=True)
        (self._layout.run / "processes.json").unlink(missing_ok=True)
        log.info("supervisor stopped")

    def _dispatch(self, request: dict[str, Any], emit: Emit) -> None:
        command = request.get("cmd")
        if command == "up":
            self.up(request.get("groups", []), emit)
        elif command == "status":
            emit({"event": "status", "rows": self.status()})
        elif command in ("start", "stop", "restart"):
            getattr(self, command)(request["name"], emit)
        elif command == "down":
            self.down(emit, request.get("groups", []))
        else:
            raise KeyError(f"unknown command {command!r}")


def socket_path(layout: Layout) -> Path:
    return layout.run / "supervisor.sock"


def request(layout: Layout, message: dict[str, Any],
            timeout: float = 600.0) -> Iterator[dict[str, Any]]:
    """Sends one request to the running supervisor and yields its events; raises
    ConnectionError when none runs, RuntimeError with its message when the request fails."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(socket_path(layout)))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ConnectionError("no supervisor is running") from exc
        conn.sendall((json.dumps(message) + "\n").encode())
        with conn.makefile("r") as replies:
            for line in replies:
                event = json.loads(line)
                if "error" in event:
                    raise RuntimeError(event["error"])
                if event.get("done"):
                    return
                yield event
    raise ConnectionError("the supervisor went away")


def wind_down(steps: Sequence[Step], stop: Callable[[Spec], None], emit: Emit) -> list[str]:
    """Undoes one group: its processes stopped and its teardowns run, newest first. A teardown
    that fails does not stop the others; returns what failed."""
    failed = []
    for step in reversed(steps):
        if isinstance(step, Spec):
            stop(step)
        elif isinstance(step, Teardown):
            try:
                said = step.run()
            except Exception as exc:  # every teardown runs; the failures are reported at the end
                log.error("teardown %s failed: %s", step.name, exc)
                failed.append(f"{step.name}: {exc}")
                said = f"FAILED: {exc}"
            emit({"event": "teardown", "name": step.name, "said": said})
    return failed


def leftovers(layout: Layout, names: Sequence[str] | None = None) -> int:
    """Stops the processes a supervisor that died left running (those named, or all);
    returns how many."""
    path = layout.run / "processes.json"
    if not path.exists():
        return 0
    recorded = json.loads(path.read_text())
    chosen = [name for name in recorded if names is None or name in names]
    stopped = sum(stop_pid(recorded[name]["pid"], expected=recorded[name]["argv0"])
                  for name in chosen)
    kept = {name: entry for name, entry in recorded.items() if name not in chosen}
    if kept:
        path.write_text(json.dumps(kept, indent=1))
    else:
        path.unlink()
    return stopped
