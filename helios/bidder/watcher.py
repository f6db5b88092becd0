"""Keeps the near cache in step with the profile service's WatchProfiles stream.

:meth:`CacheWatcher.run` is a background task of the bidder: it opens the stream, turns the
cache on when the stream's first message says the watch is in place, invalidates each user the
stream names, and turns the cache off (empty) the moment the stream ends or fails. It then
opens it again after a back-off with jitter (doubling up to a bound, reset once a stream is in
place), so a restarted profile service is found again within about a second or two.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from typing import Protocol

import grpc
import grpc.aio

from helios.bidder import metrics
from helios.bidder.near_cache import NearCache
from helios.platform.consumer import Backoff
from helios.profiles.v1.profiles_pb2 import WatchProfilesRequest, WatchProfilesResponse

log = logging.getLogger(__name__)

RETRY_INITIAL_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0


class Watch(Protocol):
    """The seam: ``ProfileServiceStub(channel).WatchProfiles`` or a test's fake."""

    def __call__(self, request: WatchProfilesRequest) -> AsyncIterable[WatchProfilesResponse]: ...


class CacheWatcher:
    def __init__(self, watch: Watch, cache: NearCache, *, backoff: Backoff | None = None) -> None:
        self._watch = watch
        self._cache = cache
        # Jittered, so bidders restarted together spread out.
        self._backoff = backoff or Backoff(RETRY_INITIAL_SECONDS, RETRY_MAX_SECONDS, jitter=0.5)

    async def run(self) -> None:
        while True:
            if await self._follow():
                self._backoff.reset()
            await asyncio.sleep(self._backoff.next_delay())

    async def _follow(self) -> bool:
        """Follows one stream until it ends; True if it was ever in place."""
        established = False
        call: AsyncIterable[WatchProfilesResponse] | None = None
        try:
            call = self._watch(WatchProfilesRequest())
            async for change in call:
                if not change.user_id:
                    self._cache.enable()
                    metrics.CACHE_STREAM_UP.set(1)
                    established = True
                    log.info("profile watch in place; near cache on")
                elif established:
                    self._cache.invalidate(change.user_id)
        except grpc.aio.AioRpcError as exc:
            log.log(logging.WARNING if established else logging.DEBUG,
                    "profile watch failed; near cache off",
                    extra={"grpc_code": exc.code().name, "details": exc.details()})
        except Exception:
            # Never out of the task: a failed background task would stop the bidder.
            log.exception("profile watch failed; near cache off")
        finally:
            self._cache.disable()
            metrics.CACHE_STREAM_UP.set(0)
            cancel = getattr(call, "cancel", None)
            if cancel is not None:
                cancel()
        return established
