"""Readiness checks: a probe is a function that answers, quickly, whether something serves.

Probes never raise: a refused connection, a timeout or an unexpected answer is ``False``, and
the caller decides how long to keep asking (:meth:`helios.local.process.Process.wait_ready`).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

Probe = Callable[[], bool]


def tcp(port: int, host: str = "127.0.0.1") -> Probe:
    """Something accepts TCP connections on ``host:port``."""
    def check() -> bool:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        return False
    return check


def http(url: str, *, status: int = 200) -> Probe:
    """``GET url`` answers ``status`` (an https URL is not verified: this checks that it
    serves, the tests check the certificate)."""
    context = ssl._create_unverified_context() if url.startswith("https") else None

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as reply:
                return bool(reply.status == status)
        except urllib.error.HTTPError as err:
            return err.code == status
        except (OSError, ValueError):
            return False
    return check


def grpc_serving(target: str, service: str = "") -> Probe:
    """The gRPC health check of ``target`` says SERVING (for ``service``, or the server)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    def check() -> bool:
        with grpc.insecure_channel(target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=1)
            except grpc.RpcError:
                return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    return check


def command(argv: Sequence[str]) -> Probe:
    """``argv`` exits 0 within a few seconds."""
    def check() -> bool:
        try:
            return subprocess.run(list(argv), capture_output=True, timeout=5,
                                  check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False
    return check


def every(*probes: Probe) -> Probe:
    return lambda: all(probe() for probe in probes)


def wait(probe: Probe, timeout: float, interval: float = 0.1) -> bool:
    """Asks ``probe`` until it passes (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
