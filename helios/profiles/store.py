"""Profiles in Redis (layout in :mod:`helios.profiles.layout`), through an injected
``redis.asyncio`` client. Redis failures surface as
:class:`~helios.platform.errors.Unavailable`, so callers see UNAVAILABLE, not INTERNAL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import cast

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from helios.platform.errors import Unavailable
from helios.profiles import layout
from helios.profiles.model import Profile
from helios.profiles.settings import Settings

CLIENT_NAME = "helios-profiles"


def connect(settings: Settings) -> redis.Redis:
    """A client whose pool blocks (bounded) for a free connection instead of failing."""
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        decode_responses=True,
        # Names the service's connections in Redis's CLIENT LIST, for operators.
        client_name=CLIENT_NAME,
    )
    return redis.Redis(connection_pool=pool)


def connect_watcher(settings: Settings) -> redis.Redis:
    """The change feed's client (:mod:`helios.profiles.watch`): no socket timeout, since a
    subscription is idle while nobody writes (the feed PINGs it instead), and no retries:
    redis-py would reconnect and subscribe again by itself, and the changes made meanwhile
    would be lost without anybody knowing."""
    return redis.Redis.from_url(
        settings.redis_url, decode_responses=True,
        socket_connect_timeout=settings.redis_timeout_seconds, retry=Retry(NoBackoff(), 0),
        client_name=CLIENT_NAME + "-watch")


class ProfileStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def get(self, user_id: str) -> Profile | None:
        async with _available():
            # decode_responses=True (see connect): keys and values come back as str.
            fields = cast(dict[str, str], await self._redis.hgetall(layout.key(user_id)))
        return layout.decode(user_id, fields)

    async def get_many(self, user_ids: Sequence[str]) -> list[Profile | None]:
        """One result per id, in order, read in a single round trip."""
        if not user_ids:
            return []
        # No MULTI: the reads need no isolation from each other, only one network round trip.
        async with _available(), self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hgetall(layout.key(user_id))
            replies = await pipe.execute()
        return [layout.decode(user_id, fields) for user_id, fields in zip(user_ids, replies,
                                                                         strict=True)]

    async def put(self, profile: Profile) -> None:
        """Replaces the user's interests: MULTI/EXEC, so a reader never sees a half-written
        profile or interests left over from the previous one."""
        async with _available(), self._redis.pipeline(transaction=True) as pipe:
            key = layout.key(profile.user_id)
            pipe.delete(key)
            pipe.hset(key, mapping=layout.encode(profile.interests))  # type: ignore[arg-type]
            await pipe.execute()

    async def delete(self, user_id: str) -> bool:
        """Removes the profile; False when there was none."""
        async with _available():
            removed: int = await self._redis.delete(layout.key(user_id))
        return removed > 0


@asynccontextmanager
async def _available() -> AsyncIterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise Unavailable(f"profile store unavailable: {exc}") from exc
