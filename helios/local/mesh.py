"""The Helios services and the Envoy gateway as local processes, for the supervisor of
`make up` (fixed ports, from each service's settings) and for the tests and benchmarks
(:class:`Launcher`: free ports, one environment for all, everything stopped at the end)."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helios.gateway.settings import GatewaySettings
from helios.local.probes import grpc_serving, http
from helios.local.process import Process, Spec

SERVICES = ("profiles", "bidder", "auction", "analytics")
HELIOS = Path(sys.executable).parent / "helios"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service(name: str, env: Mapping[str, str], log: Path, *, grpc_port: int,
            metrics_port: int = 0, process: str | None = None) -> Spec:
    """`helios serve <name>` on ``grpc_port``, ready once its gRPC health says SERVING.
    ``process`` names one of several processes of a service (bidder-2)."""
    prefix = f"HELIOS_{name.upper()}"
    child = {**env, f"{prefix}_GRPC_PORT": str(grpc_port),
             f"{prefix}_METRICS_PORT": str(metrics_port)}
    return Spec(name=process or name, argv=[str(HELIOS), "serve", name], log=log, env=child,
                ready=grpc_serving(f"127.0.0.1:{grpc_port}"), ready_timeout=30.0,
                port=grpc_port)


def gateway(settings: GatewaySettings, config: Path, log: Path, env: Mapping[str, str], *,
            concurrency: int | None = None) -> Spec:
    """Envoy with the config rendered (and validated) from ``settings``, its credentials made
    first where missing; ready once its admin endpoint says so."""
    from helios.gateway import credentials, render

    def prepare() -> None:
        credentials.ensure(settings)
        render.write(settings, config)
        render.validate(config)

    argv = [render.envoy_binary(), "-c", str(config), "--use-dynamic-base-id",
            "--log-level", "warn"]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    return Spec(name="envoy", argv=argv, log=log, env=dict(env), prepare=prepare,
                ready=http(f"http://127.0.0.1:{settings.admin_port}/ready"),
                ready_timeout=30.0, port=settings.port)


@dataclass
class Service(Process):
    """A started `helios serve <name>`."""

    grpc_port: int = 0
    # Its Prometheus /metrics port; 0 when off (the default for tests).
    metrics_port: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        self.wait_ready(timeout)

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.spawn()
        self.wait_ready(timeout)


@dataclass
class Gateway(Process):
    """A started Envoy, with its settings (credentials included), so a caller can mint the
    tokens and trust the certificate it was given."""

    settings: GatewaySettings = field(default_factory=lambda: GatewaySettings.from_env({}))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def metrics_url(self) -> str:
        """Envoy's statistics in Prometheus' format, the one thing its metrics port serves."""
        return f"http://127.0.0.1:{self.settings.metrics_port}/stats/prometheus"

    @property
    def https_url(self) -> str:
        return f"https://localhost:{self.settings.tls_port}"

    @property
    def ca(self) -> Path:
        """The local CA that signed the HTTPS listener's certificate."""
        from helios.gateway import credentials

        return credentials.ca_path(self.settings)

    def token(self, **claims: Any) -> str:
        """A bearer token this gateway accepts (see helios.gateway.credentials.token)."""
        from helios.gateway import credentials

        return credentials.token(self.settings, **claims)

    def auth(self, **claims: Any) -> dict[str, str]:
        """The header that carries :meth:`token`."""
        return {"authorization": f"Bearer {self.token(**claims)}"}


@dataclass
class Launcher:
    """Starts services and gateways on free ports, all with one base environment, each
    waited for until it serves; :meth:`stop_all` stops every process it started (or was
    handed through :meth:`adopt`), newest first."""

    base_env: Mapping[str, str]
    log_dir: Path
    started: list[Process] = field(default_factory=list)

    def adopt(self, process: Process) -> Process:
        self.started.append(process)
        return process

    def start(self, name: str, env: Mapping[str, str] | None = None, *,
              wait: bool = True, metrics: bool = False) -> Service:
        """``metrics`` turns the service's /metrics endpoint on, on a free port of its own."""
        # A caller may name the port (to restart a service where it was); else a free one.
        named = (env or {}).get(f"HELIOS_{name.upper()}_GRPC_PORT")
        port = int(named) if named else free_port()
        metrics_port = free_port() if metrics else 0
        spec = service(name, {**self.base_env, **(env or {})},
                       self.log_dir / f"{name}-{port}.log", grpc_port=port,
                       metrics_port=metrics_port)
        proc = Service(spec, grpc_port=port, metrics_port=metrics_port)
        self.adopt(proc)
        proc.spawn()
        if wait:
            proc.wait_ready()
        return proc

    def start_gateway(self, bidder_targets: list[str], analytics_target: str,
                      env: Mapping[str, str] | None = None) -> Gateway:
        """Envoy on free ports (HTTP, HTTPS, admin, Prometheus stats), with credentials of
        this launcher's own (a local CA, a certificate and a token signing key, made once under
        its log dir)."""
        port = free_port()
        gateway_env = {**self.base_env, "HELIOS_GATEWAY_PORT": str(port),
                       "HELIOS_GATEWAY_ADMIN_PORT": str(free_port()),
                       "HELIOS_GATEWAY_TLS_PORT": str(free_port()),
                       "HELIOS_GATEWAY_METRICS_PORT": str(free_port()),
                       "HELIOS_STATE_DIR": str(self.log_dir / "gateway-state"),
                       "HELIOS_GATEWAY_BIDDER_TARGETS": ",".join(bidder_targets),
                       "HELIOS_GATEWAY_ANALYTICS_TARGET": analytics_target, **(env or {})}
        settings = GatewaySettings.from_env(gateway_env)
        spec = gateway(settings, self.log_dir / f"envoy-{port}.yaml",
                       self.log_dir / f"envoy-{port}.log", self.base_env, concurrency=2)
        proc = Gateway(spec, settings=settings)
        self.adopt(proc)
        proc.start()
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
