"""WatchProfiles on a real `helios serve profiles` and the real Redis: changes made through the
API and written straight into Redis are streamed, and a stream whose service lost its Redis
subscription ends UNAVAILABLE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import cast

import grpc
import grpc.aio
import psutil
import pytest
import redis.asyncio as redis

from helios.bidder.service import CHANNEL_OPTIONS
from helios.local.mesh import Service, launched
from helios.profiles import layout
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub

NewId = Callable[[], str]
Stream = AsyncIterator[pb.WatchProfilesResponse]


@pytest.fixture
def profiles(service_env: dict[str, str], log_dir: Path) -> Iterator[Service]:
    with launched(service_env, log_dir) as launcher:
        yield launcher.start("profiles")


async def watching(stub: ProfileServiceStub) -> Stream:
    """A stream past its first message, so every later change is on it."""
    # The generated stub is typed for the synchronous API; on an aio channel the call is an
    # async iterator.
    call = cast(AsyncIterable[pb.WatchProfilesResponse],
                stub.WatchProfiles(pb.WatchProfilesRequest(), wait_for_ready=True))
    stream = aiter(call)
    first = await asyncio.wait_for(anext(stream), 10)
    assert first == pb.WatchProfilesResponse()
    return stream


async def next_change(stream: Stream) -> tuple[str, bool]:
    change = await asyncio.wait_for(anext(stream), 5)
    return change.user_id, change.deleted


async def changes_of(stream: Stream, user_id: str, count: int) -> list[tuple[str, bool]]:
    """The next ``count`` changes of ``user_id`` (other tests of the session write too)."""
    found: list[tuple[str, bool]] = []
    while len(found) < count:
        change = await next_change(stream)
        if change[0] == user_id:
            found.append(change)
    return found


async def test_a_quiet_stream_outlives_the_bidders_keepalive_pings(profiles: Service) -> None:
    """The bidder's channel pings every 10 s; on a stream with nothing to say for 35 s, the
    server must take those pings, not close the connection (GOAWAY too_many_pings) under the
    stream and under the lookups that share it."""
    async with grpc.aio.insecure_channel(profiles.target, options=CHANNEL_OPTIONS) as channel:
        stub = ProfileServiceStub(channel)
        stream = await watching(stub)
        # Nothing changes in this test's time: a change would be data, which resets the count.
        pending = asyncio.ensure_future(anext(stream))
        done, _ = await asyncio.wait({pending}, timeout=35)
        if done:
            pytest.fail(f"the stream ended or spoke while quiet: {pending.result()!r}")
        reply = await stub.BatchGetProfiles(pb.BatchGetProfilesRequest(user_ids=["user-001"]),
                                            timeout=5)
        assert [p.user_id for p in reply.profiles] == ["user-001"]
        pending.cancel()


async def test_changes_through_the_api_are_streamed(profiles: Service, new_user_id: NewId,
                                                    cleanup: list[str]) -> None:
    user_id = new_user_id()
    cleanup.append(user_id)
    async with grpc.aio.insecure_channel(profiles.target) as channel:
        stub = ProfileServiceStub(channel)
        stream = await watching(stub)
        await stub.UpsertProfile(pb.UpsertProfileRequest(
            profile=pb.UserProfile(user_id=user_id, interests={"sports": 0.9})), timeout=5)
        await stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id), timeout=5)
        # An upsert is DEL then HSET in one MULTI; Redis reports each (the DEL only when the
        # key existed, so not for a new user).
        assert await changes_of(stream, user_id, 2) == [(user_id, False), (user_id, True)]


async def test_writes_straight_into_redis_are_streamed(
        profiles: Service, client: redis.Redis, new_user_id: NewId,
        cleanup: list[str]) -> None:
    user_id = new_user_id()
    cleanup.append(user_id)
    async with grpc.aio.insecure_channel(profiles.target) as channel:
        stream = await watching(ProfileServiceStub(channel))
        await client.set(f"helios:other:{user_id}", "not a profile")
        await client.hset(layout.key(user_id), "music", "0.5")
        await client.expire(layout.key(user_id), 1)
        assert await changes_of(stream, user_id, 3) == [
            (user_id, False), (user_id, False), (user_id, True)]  # hset, expire, expired
        await client.delete(f"helios:other:{user_id}")


async def test_a_lost_redis_subscription_ends_every_stream(profiles: Service,
                                                           client: redis.Redis) -> None:
    async with grpc.aio.insecure_channel(profiles.target) as channel:
        stub = ProfileServiceStub(channel)
        stream = await watching(stub)
        await kill_subscription(client, profiles)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            while True:
                await next_change(stream)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        # The feed subscribes again by itself, and a new stream is in place.
        await watching(stub)


async def kill_subscription(client: redis.Redis, profiles: Service) -> None:
    """Cuts this service's own pubsub connection (not another test run's), as a network
    failure or a Redis restart would."""
    assert profiles.pid is not None
    ports = {c.laddr.port for c in psutil.Process(profiles.pid).net_connections("tcp")
             if c.raddr and c.raddr.port == client.connection_pool.connection_kwargs["port"]}
    for entry in await client.client_list():
        if entry.get("psub") == "1" and int(entry["addr"].rsplit(":", 1)[1]) in ports:
            await client.client_kill_filter(_id=entry["id"])
            return
    raise AssertionError("the service holds no pubsub connection")


async def test_stopping_the_service_ends_its_streams_at_once(profiles: Service) -> None:
    """Not at the end of the 5 s grace period: a bidder moves to another process at once."""
    async with grpc.aio.insecure_channel(profiles.target) as channel:
        stream = await watching(ProfileServiceStub(channel))
        stopping = asyncio.get_running_loop().run_in_executor(None, profiles.stop)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            async with asyncio.timeout(3):
                while True:
                    await anext(stream)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        await stopping
