"""What the tests add to the one way Helios runs processes (helios.local): waiting for a
condition. Processes are started with
:class:`helios.local.mesh.Launcher` on free ports: tests never use the fixed ones, so a test
run and `make up`, or two test runs, can share a machine. Failure scenarios act on real
processes: ``stop()``, ``kill()``, ``pause()`` (SIGSTOP: the process still holds its port but
answers nothing, as a hung service does).
"""

from __future__ import annotations

import time
from pathlib import Path

from helios.local.mesh import HELIOS

ROOT = Path(__file__).resolve().parents[1]
BIN = HELIOS.parent


def eventually(check: object, timeout: float = 15.0, interval: float = 0.1) -> object:
    """Calls ``check()`` until it returns a truthy value (returned) or ``timeout`` passes
    (then the last AssertionError is re-raised, or a TimeoutError)."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    last: AssertionError | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            if last is not None:
                raise last
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)
