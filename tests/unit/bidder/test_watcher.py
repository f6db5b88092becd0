"""The watcher against a fake WatchProfiles: the cache is on only while a stream is in place,
invalidated by what it names, flushed when it ends, and the stream is opened again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import grpc.aio

from helios.bidder.near_cache import NearCache
from helios.bidder.profiles_client import Lookup
from helios.bidder.watcher import CacheWatcher
from helios.platform.consumer import Backoff
from helios.profiles.v1.profiles_pb2 import WatchProfilesRequest, WatchProfilesResponse


async def eventually(check: Callable[[], bool]) -> None:
    """Lets the watcher's task run until ``check()`` holds (2 s at most)."""
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never held")


class FakeProfiles:
    def __init__(self) -> None:
        self.calls = 0

    async def lookup(self, user_id: str, budget: float) -> Lookup:
        self.calls += 1
        return Lookup({"sports": 0.5})


class FakeWatch:
    """Each call is a stream fed from its own queue; None in the queue fails it UNAVAILABLE."""

    def __init__(self) -> None:
        self.streams: list[asyncio.Queue[WatchProfilesResponse | None]] = []

    def __call__(self, request: WatchProfilesRequest) -> AsyncIterator[WatchProfilesResponse]:
        queue: asyncio.Queue[WatchProfilesResponse | None] = asyncio.Queue()
        self.streams.append(queue)
        return self._stream(queue)

    async def _stream(self, queue: asyncio.Queue[WatchProfilesResponse | None],
                      ) -> AsyncIterator[WatchProfilesResponse]:
        while (item := await queue.get()) is not None:
            yield item
        raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                   grpc.aio.Metadata(), details="gone",
                                   debug_error_string=None)


async def test_the_cache_follows_the_stream() -> None:
    profiles = FakeProfiles()
    near = NearCache(profiles, 100)
    watch = FakeWatch()
    watcher = CacheWatcher(watch, near, backoff=Backoff(0.01, 0.02, jitter=0))
    task = asyncio.create_task(watcher.run())
    try:
        await eventually(lambda: len(watch.streams) == 1)
        assert not near.enabled  # opened, but not yet in place
        watch.streams[0].put_nowait(WatchProfilesResponse())
        await eventually(lambda: near.enabled)

        await near.lookup("u1", 1.0)
        await near.lookup("u2", 1.0)
        assert len(near) == 2
        watch.streams[0].put_nowait(WatchProfilesResponse(user_id="u1"))
        await eventually(lambda: "u1" not in near)
        assert "u2" in near

        watch.streams[0].put_nowait(None)  # the stream breaks
        await eventually(lambda: not near.enabled)
        assert len(near) == 0
        calls = profiles.calls
        await near.lookup("u2", 1.0)
        await near.lookup("u2", 1.0)
        assert profiles.calls == calls + 2

        await eventually(lambda: len(watch.streams) == 2)  # opened again
        watch.streams[1].put_nowait(WatchProfilesResponse())
        await eventually(lambda: near.enabled)
        await near.lookup("u2", 1.0)
        assert "u2" in near
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not near.enabled and len(near) == 0


async def test_a_call_that_cannot_even_start_is_retried_not_fatal() -> None:
    attempts: list[int] = []

    def broken(request: WatchProfilesRequest) -> AsyncIterator[WatchProfilesResponse]:
        attempts.append(1)
        raise RuntimeError("the channel is closed")

    near = NearCache(FakeProfiles(), 10)
    task = asyncio.create_task(CacheWatcher(broken, near,
                                            backoff=Backoff(0.001, 0.001)).run())
    try:
        await eventually(lambda: len(attempts) >= 3)
        assert not task.done() and not near.enabled
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
