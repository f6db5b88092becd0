"""The service built in-process by :func:`helios.profiles.service.build` and run by the platform
runner: it serves, and on stop it closes its Redis connections."""

from __future__ import annotations

import asyncio
import os
import uuid

import grpc.aio
import redis.asyncio as redis

from helios.local.mesh import free_port
from helios.platform.server import run
from helios.platform.settings import redis_url
from helios.profiles.service import build
from helios.profiles.settings import Settings
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub


async def connected_names(client: redis.Redis) -> set[str]:
    return {entry.get("name", "") for entry in await client.client_list()}


async def test_stopping_the_service_closes_its_redis_connections(client: redis.Redis) -> None:
    name = f"profiles-test-{uuid.uuid4().hex[:10]}"
    settings = Settings(grpc_port=free_port(), metrics_port=0, redis_url=redis_url(os.environ))
    service_client = redis.Redis.from_url(settings.redis_url, decode_responses=True,
                                          client_name=name)
    watcher = redis.Redis.from_url(settings.redis_url, decode_responses=True,
                                   client_name=name + "-watch")
    service = build(settings, service_client, watcher)
    service.drain_seconds = 0.0
    stop = asyncio.Event()
    serving = asyncio.create_task(run(service, stop))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
            reply = await ProfileServiceStub(channel).GetProfile(
                pb.GetProfileRequest(user_id="user-001"), timeout=5, wait_for_ready=True)
        assert reply.profile.interests["technology"] == 0.95
        # The change feed subscribes in the background, soon after the service starts.
        for _ in range(50):
            if {name, name + "-watch"} <= await connected_names(client):
                break
            await asyncio.sleep(0.1)
        assert {name, name + "-watch"} <= await connected_names(client)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)
    assert not {name, name + "-watch"} & await connected_names(client)
