"""`helios serve profiles`: the ProfileService over gRPC, backed by Redis."""

from __future__ import annotations

import redis.asyncio as redis

from helios.platform.server import Registration, Service, run, service_main
from helios.platform.tracing import OFF, Tracing
from helios.profiles.servicer import ProfileServicer
from helios.profiles.settings import Settings
from helios.profiles.store import ProfileStore, connect, connect_watcher
from helios.profiles.v1 import profiles_pb2
from helios.profiles.v1.profiles_pb2_grpc import add_ProfileServiceServicer_to_server
from helios.profiles.watch import ChangeFeed


def build(settings: Settings, client: redis.Redis, watcher: redis.Redis,
          tracer: Tracing = OFF) -> Service:
    """The service description for :func:`helios.platform.server.run`; closing ``client`` and
    ``watcher`` (the change feed's own connection) are its clean-ups."""
    feed = ChangeFeed(watcher)
    servicer = ProfileServicer(ProfileStore(client), feed)
    return Service(
        name="profiles",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        registrations=[Registration.of(profiles_pb2.DESCRIPTOR.services_by_name[
            "ProfileService"], add_ProfileServiceServicer_to_server, servicer)],
        # The pool was built for this client alone, so closing both is safe.
        background=[feed.run],
        stopping=[feed.close],
        cleanups=[lambda: client.aclose(close_connection_pool=True),
                  lambda: watcher.aclose(close_connection_pool=True)],
        warmups=[client.ping],
        tracing=tracer,
    )


async def serve(settings: Settings, tracer: Tracing) -> None:
    await run(build(settings, connect(settings), connect_watcher(settings), tracer))


main = service_main("profiles", Settings.from_env, serve)

