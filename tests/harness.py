"""Real Helios processes for tests: each service and the Envoy gateway started as a subprocess
on free ports, waited for until healthy, and stopped at teardown.

Tests never use the fixed ports, so a test run and `make up`, or two test runs, can share a
machine. Failure scenarios act on real processes: `stop()`, `kill()`, `pause()` (SIGSTOP: the
process still holds its port but answers nothing, as a hung service does).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from helios.gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StartError(RuntimeError):
    pass


@dataclass
class Proc:
    """A child process with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=ROOT,
                                      start_new_session=True)
        log.close()

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL after ``timeout``; returns the exit code."""
        if self.popen is None:
            return None
        self.resume()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)

    def pause(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.alive:
            assert self.popen is not None
            os.kill(self.popen.pid, signal.SIGCONT)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass
class ServiceProcess(Proc):
    """`helios serve <name>` on its own gRPC port."""

    grpc_port: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if not self.alive:
                    raise StartError(f"{self.name} exited while starting:\n{self.log_tail()}")
                with contextlib.suppress(grpc.RpcError):
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                time.sleep(0.1)
        raise StartError(f"{self.name} not healthy after {timeout}s:\n{self.log_tail()}")

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.spawn()
        self.wait_healthy(timeout)


@dataclass
class Gateway(Proc):
    """Envoy with the rendered Helios gateway config, and its settings (credentials
    included), so a test can mint the tokens and trust the certificate it was given."""

    port: int = 0
    admin_port: int = 0
    settings: GatewaySettings | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        assert self.settings is not None
        return f"https://localhost:{self.settings.tls_port}"

    @property
    def ca(self) -> Path:
        """The local CA that signed the HTTPS listener's certificate."""
        from helios.gateway import credentials

        assert self.settings is not None
        return credentials.ca_path(self.settings)

    def token(self, **claims: Any) -> str:
        """A bearer token this gateway accepts (see helios.gateway.credentials.token)."""
        from helios.gateway import credentials

        assert self.settings is not None
        return credentials.token(self.settings, **claims)

    def auth(self, **claims: Any) -> dict[str, str]:
        """The header that carries :meth:`token`."""
        return {"authorization": f"Bearer {self.token(**claims)}"}

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise StartError(f"envoy exited while starting:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.admin_url}/ready", timeout=1) as reply:
                    if reply.status == 200:
                        return
            time.sleep(0.1)
        raise StartError(f"envoy not ready after {timeout}s:\n{self.log_tail()}")


@dataclass
class Launcher:
    """Starts processes with a base environment; :meth:`stop_all` ends every one it started."""

    base_env: Mapping[str, str]
    log_dir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, env: Mapping[str, str] | None = None, *,
              wait: bool = True) -> ServiceProcess:
        port = free_port()
        child_env = {**self.base_env, f"HELIOS_{name.upper()}_GRPC_PORT": str(port),
                     f"HELIOS_{name.upper()}_METRICS_PORT": "0", **(env or {})}
        proc = ServiceProcess(
            name=name,
            argv=[str(BIN / "helios"), "serve", name],
            env=child_env,
            log_path=self.log_dir / f"{name}-{port}.log",
            grpc_port=int(child_env[f"HELIOS_{name.upper()}_GRPC_PORT"]),
        )
        proc.spawn()
        self.started.append(proc)
        if wait:
            proc.wait_healthy()
        return proc

    def start_gateway(self, bidder_targets: list[str], analytics_target: str,
                      env: Mapping[str, str] | None = None) -> Gateway:
        """Envoy on free ports (HTTP, HTTPS, admin), with credentials of this launcher's own
        (a local CA, a certificate and a token signing key, made once under its log dir)."""
        from helios.gateway import credentials, render

        port, admin_port = free_port(), free_port()
        gateway_env = {**self.base_env, "HELIOS_GATEWAY_PORT": str(port),
                       "HELIOS_GATEWAY_ADMIN_PORT": str(admin_port),
                       "HELIOS_GATEWAY_TLS_PORT": str(free_port()),
                       "HELIOS_STATE_DIR": str(self.log_dir / "gateway-state"),
                       "HELIOS_GATEWAY_BIDDER_TARGETS": ",".join(bidder_targets),
                       "HELIOS_GATEWAY_ANALYTICS_TARGET": analytics_target, **(env or {})}
        settings = GatewaySettings.from_env(gateway_env)
        credentials.ensure(settings)
        config = render.write(settings, self.log_dir / f"envoy-{port}.yaml")
        proc = Gateway(
            name="envoy",
            argv=[str(BIN / "envoy"), "-c", str(config), "--use-dynamic-base-id",
                  "--log-level", "warn", "--concurrency", "2"],
            env=dict(self.base_env),
            log_path=self.log_dir / f"envoy-{port}.log",
            port=port,
            admin_port=admin_port,
            settings=settings,
        )
        proc.spawn()
        self.started.append(proc)
        proc.wait_ready()
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()
        self.started.clear()


@contextlib.contextmanager
def launched(base_env: Mapping[str, str], log_dir: Path) -> Iterator[Launcher]:
    launcher = Launcher(base_env, log_dir)
    try:
        yield launcher
    finally:
        launcher.stop_all()


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


def delete_topics(bootstrap: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    # Best effort: a leftover test topic harms nothing.
    for future in admin.delete_topics(names, operation_timeout=30).values():
        with contextlib.suppress(Exception):
            future.result(30)
