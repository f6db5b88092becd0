"""One process, as helios.local.process runs every one: ready by its probe, stopped by its
own signal, killed when it ignores it, and a start that fails says why with its log."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from helios.local.mesh import free_port
from helios.local.probes import tcp
from helios.local.process import Process, Spec, StartError

SERVE = """
import signal, socket, sys, time
if sys.argv[2] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("listening", flush=True)
server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
time.sleep(60)
"""


def spec(tmp_path: Path, port: int, mode: str = "normal", **extra: object) -> Spec:
    return Spec(name="toy", argv=[sys.executable, "-c", SERVE, str(port), mode],
                log=tmp_path / "toy.log", ready=tcp(port), **extra)  # type: ignore[arg-type]


def test_start_returns_once_the_probe_passes_and_stop_ends_it(tmp_path: Path) -> None:
    port = free_port()
    process = Process(spec(tmp_path, port))

    process.start()

    assert process.alive and tcp(port)()
    assert "listening" in process.log_text()
    assert process.stop() == -signal.SIGTERM
    assert not process.alive


def test_a_process_that_ignores_its_stop_signal_is_killed(tmp_path: Path) -> None:
    process = Process(spec(tmp_path, free_port(), "ignore", stop_timeout=0.5))
    process.start()

    assert process.stop() == -signal.SIGKILL


def test_a_process_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    failing = Spec(name="broken", argv=[sys.executable, "-c", "print('no config'); exit(3)"],
                   log=tmp_path / "broken.log", ready=tcp(free_port()))

    with pytest.raises(StartError, match=r"(?s)broken exited while starting.*no config"):
        Process(failing).start()


def test_a_process_that_never_serves_times_out(tmp_path: Path) -> None:
    silent = Spec(name="silent", argv=[sys.executable, "-c", "import time; time.sleep(30)"],
                  log=tmp_path / "silent.log", ready=tcp(free_port()), ready_timeout=1)
    process = Process(silent)

    with pytest.raises(StartError, match="silent not ready after 1s"):
        process.start()
    process.stop()
