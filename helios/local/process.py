"""One process of a local Helios: started from a :class:`Spec`, waited for until its probe
says it serves, and stopped with its own signal, then SIGKILL after a grace period.

Each process runs in a session of its own, its output appended to its log file, so a terminal's
Ctrl-C reaches only the command that asked, and a stop is sent to the process alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from helios.local.probes import Probe, wait


class StartError(RuntimeError):
    """A process exited while starting, or did not become ready in time; the message ends
    with the tail of its log."""


@dataclass(frozen=True)
class Spec:
    """How to run one process."""

    name: str
    argv: Sequence[str]
    log: Path
    # The whole environment of the child; None: this process's own.
    env: Mapping[str, str] | None = None
    # Whether it serves (None: running is enough).
    ready: Probe | None = None
    ready_timeout: float = 60.0
    # Idempotent set-up before each start (make directories, render a config, format storage),
    # and work once it serves (create roles); both run in the starting process.
    prepare: Callable[[], None] | None = None
    after_ready: Callable[[], None] | None = None
    cwd: Path | None = None
    # Run as this user (PostgreSQL refuses root).
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    # The port it serves, for `helios local status`.
    port: int | None = None
    # Whether the supervisor restarts it when it dies unasked.
    restart: bool = True


@dataclass
class Process:
    spec: Spec
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = field(default=0.0)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def spawn(self) -> None:
        """Starts the process (running ``prepare`` first); returns at once."""
        if self.spec.prepare is not None:
            self.spec.prepare()
        self.spec.log.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log.open("ab") as log:
            self.popen = subprocess.Popen(
                list(self.spec.argv), env=dict(self.spec.env) if self.spec.env else None,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.spec.cwd, user=self.spec.user, start_new_session=True)
        self.started_at = time.time()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Returns once the probe passes (then runs ``after_ready``); raises StartError if the
        process exits first or ``timeout`` (the spec's by default) passes."""
        limit = self.spec.ready_timeout if timeout is None else timeout
        probe = self.spec.ready
        # An exit ends the wait at once: the probe is asked while the process lives.
        if probe is not None and not wait(lambda: probe() or not self.alive, limit):
            raise StartError(f"{self.name} not ready after {limit:.0f}s:\n{self.log_tail()}")
        if not self.alive:
            raise StartError(f"{self.name} exited while starting (status "
                             f"{self.returncode}):\n{self.log_tail()}")
        if self.spec.after_ready is not None:
            self.spec.after_ready()

    def start(self) -> None:
        """:meth:`spawn`, then :meth:`wait_ready`."""
        self.spawn()
        self.wait_ready()

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def stop(self, timeout: float | None = None) -> int | None:
        """The spec's stop signal, then SIGKILL after ``timeout``; returns the exit status."""
        if self.popen is None:
            return None
        self.resume()
        if self.popen.poll() is None:
            self.popen.send_signal(self.spec.stop_signal)
            try:
                self.popen.wait(self.spec.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(10)

    def pause(self) -> None:
        """SIGSTOP: it keeps its port but answers nothing, as a hung process does."""
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.alive:
            assert self.popen is not None
            os.kill(self.popen.pid, signal.SIGCONT)

    def log_text(self) -> str:
        return self.spec.log.read_text(errors="replace") if self.spec.log.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def stop_pid(pid: int, *, expected: str, sig: int = signal.SIGTERM,
             timeout: float = 30.0) -> bool:
    """Stops a process this machine's state says is ours (a supervisor that died left it),
    if its command line still contains ``expected``; True when one was stopped."""
    try:
        process = psutil.Process(pid)
        if expected not in " ".join(process.cmdline()):
            return False
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(10)
    except psutil.Error:
        return False
    return True


def usage(pid: int) -> tuple[float, float]:
    """(RSS in MiB, CPU seconds) of a process and its children, or zeros when it is gone."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in family) / 2**20
        cpu = sum(sum(p.cpu_times()[:2]) for p in family)
    except psutil.Error:
        return 0.0, 0.0
    return rss, cpu
