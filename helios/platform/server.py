"""The one way a Helios service runs: a grpc.aio server with health checking and reflection,
a `/metrics` endpoint, optional background tasks (Kafka consumers), and a graceful stop.

On SIGTERM or SIGINT the runner marks every service NOT_SERVING (so load balancers and
Kubernetes probes stop sending work), lets in-flight calls finish within the grace period,
cancels the background tasks, then runs the clean-ups (flush the Kafka producer, close pools)
in reverse order of registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import grpc
import grpc.aio
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from helios.platform import logging as helios_logging
from helios.platform import tracing
from helios.platform.interceptors import ServiceInterceptor
from helios.platform.metrics import serve_metrics
from helios.platform.settings import Environ, process_env
from helios.platform.tracing import OFF, Tracing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """One gRPC service to expose: its full name (for health and reflection) and how to add
    its servicer to a server."""

    full_name: str
    add_to_server: Callable[[grpc.aio.Server], None]

    @classmethod
    def of(cls, service: Any, add: Callable[[Any, grpc.aio.Server], None],
           servicer: object) -> Registration:
        """``servicer`` for ``service`` (the ServiceDescriptor from the generated module),
        added by the generated ``add_<Service>Servicer_to_server``."""
        return cls(service.full_name, lambda server: add(servicer, server))


@dataclass
class Service:
    """What a service hands to :func:`run`: everything else is the runner's job."""

    name: str
    grpc_port: int
    metrics_port: int
    registrations: Sequence[Registration] = ()
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Run before the service says SERVING: connections opened ahead of the first call, so the
    # first bid does not pay for them. Each gets warmup_seconds; one that fails or runs out is
    # logged and the service serves anyway (its calls then degrade as they would later).
    warmups: Sequence[Callable[[], Awaitable[object]]] = ()
    warmup_seconds: float = 2.0
    grace_seconds: float = 5.0
    # Called as the service turns NOT_SERVING: what ends its long-lived calls (streams), which
    # would otherwise hold the stop for the whole grace period.
    stopping: Sequence[Callable[[], None]] = ()
    # After NOT_SERVING and before refusing new calls, so health-checking proxies move away.
    drain_seconds: float = 0.5
    host: str = "[::]"
    # A SERVER span per call when on.
    tracing: Tracing = OFF


class MethodAwarePool:
    """The default descriptor pool, also resolving method names for reflection: ghz asks for the
    file containing ``pkg.Service.Method``, and Python's pool knows services, not methods."""

    def __init__(self, pool: descriptor_pool.DescriptorPool) -> None:
        self._pool = pool

    def FindFileContainingSymbol(self, symbol: str) -> Any:
        try:
            return self._pool.FindFileContainingSymbol(symbol)
        except KeyError:
            service = symbol.rpartition(".")[0]
            if not service:
                raise
            return self._pool.FindFileContainingSymbol(service)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


async def run(service: Service, stop: asyncio.Event | None = None) -> None:
    """Serves until SIGTERM/SIGINT (or ``stop`` is set, for embedding), or until a background
    task fails (then re-raises it)."""
    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(service.tracing)],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 4 * 1024 * 1024),
                 # Clients' keepalive pings (the bidder's come every 10 s) are welcome on a
                 # quiet long-lived stream such as WatchProfiles. By default a server allows one
                 # ping without data per 5 minutes and answers the third early one with GOAWAY
                 # "too_many_pings", which fails every call on that connection.
                 ("grpc.http2.min_ping_interval_without_data_ms", 5_000)],
    )
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    # It starts out SERVING; a probe must not see that before the warm-ups are done.
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for registration in service.registrations:
        registration.add_to_server(server)
    names = [r.full_name for r in service.registrations]
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME],
        server,
        pool=MethodAwarePool(descriptor_pool.Default()),  # type: ignore[arg-type]  # duck-typed
    )
    address = f"{service.host}:{service.grpc_port}"
    if not server.add_insecure_port(address):
        raise RuntimeError(f"cannot listen on {address}")
    serve_metrics(service.metrics_port)
    await server.start()

    stopping = stop if stop is not None else asyncio.Event()
    if stop is None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)

    tasks = [asyncio.create_task(make(), name=f"{service.name}:{make.__name__}")
             for make in service.background]
    failed: BaseException | None = None

    def on_done(task: asyncio.Task[None]) -> None:
        nonlocal failed
        if not task.cancelled() and task.exception() is not None:
            failed = task.exception()
            log.error("background task %s failed", task.get_name(), exc_info=failed)
            stopping.set()

    for task in tasks:
        task.add_done_callback(on_done)

    for warm in service.warmups:
        await _warm(warm, service.warmup_seconds)
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"grpc_port": service.grpc_port,
                               "metrics_port": service.metrics_port})
    await stopping.wait()

    log.info("shutting down", extra={"grace_seconds": service.grace_seconds})
    await health_servicer.enter_graceful_shutdown()
    for stop_streams in service.stopping:
        stop_streams()
    await asyncio.sleep(service.drain_seconds)
    await server.stop(service.grace_seconds)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for cleanup in reversed(service.cleanups):
        try:
            await cleanup()
        except Exception:
            log.exception("clean-up failed")
    log.info("stopped")
    if failed is not None:
        raise failed


async def _warm(warm: Callable[[], Awaitable[object]], seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await warm()
    except Exception as exc:  # a warm-up is an optimisation: whatever failed, serve
        log.warning("warm-up did not finish; serving anyway",
                    extra={"step": getattr(warm, "__name__", str(warm)),
                           "error": f"{type(exc).__name__}: {exc}"})


def run_forever(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Runs a service's main coroutine on uvloop when available."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(main())
    else:
        uvloop.run(main())


class _Settings(Protocol):
    @property
    def log_level(self) -> str: ...


S = TypeVar("S", bound=_Settings)


def service_main(name: str, read_settings: Callable[[Environ], S],
                 serve: Callable[[S, Tracing], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """The ``main()`` of `helios serve <name>`: settings from the environment (a bad one stops
    it, named), JSON logs, tracing as the environment asks, ``serve`` on uvloop."""
    def main() -> None:
        env = process_env()
        settings = read_settings(env)
        helios_logging.configure(name, settings.log_level)
        with tracing.configured(name, env) as traces:
            run_forever(lambda: serve(settings, traces))
    return main
