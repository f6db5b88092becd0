"""`helios serve profiles`: the ProfileService over gRPC, backed by Redis."""

from __future__ import annotations

import redis.asyncio as redis

from helios.platform import logging as helios_logging
from helios.platform import tracing
from helios.platform.server import Registration, Service, run, run_forever
from helios.platform.settings import process_env
from helios.profiles.servicer import ProfileServicer
from helios.profiles.settings import Settings
from helios.profiles.store import ProfileStore, connect
from helios.profiles.v1 import profiles_pb2
from helios.profiles.v1.profiles_pb2_grpc import add_ProfileServiceServicer_to_server

SERVICE_NAME = profiles_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name


def build(settings: Settings, client: redis.Redis) -> Service:
    """The service description for :func:`helios.platform.server.run`; closing ``client`` is
    one of its clean-ups."""
    servicer = ProfileServicer(ProfileStore(client))
    return Service(
        name="profiles",
        grpc_port=settings.grpc_port,
        metrics_port=settings.metrics_port,
        registrations=[Registration(
            SERVICE_NAME, lambda server: add_ProfileServiceServicer_to_server(servicer, server))],
        # The pool was built for this client alone, so closing both is safe.
        cleanups=[lambda: client.aclose(close_connection_pool=True)],
    )


async def serve(settings: Settings) -> None:
    await run(build(settings, connect(settings)))


def main() -> None:
    settings = Settings.from_env(process_env())
    helios_logging.configure("profiles", settings.log_level)
    with tracing.configured("profiles", process_env()):
        run_forever(lambda: serve(settings))

