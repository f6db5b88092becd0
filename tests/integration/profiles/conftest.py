"""Fixtures for the profile tests: a Redis client on the real server, and user ids no other
test (or test run) shares."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis as sync_redis
import redis.asyncio as redis

from helios.platform.settings import redis_url
from helios.profiles import layout

SEED_DB = 9
SYNTHETIC_DB = 10


@pytest.fixture
def new_user_id() -> Callable[[], str]:
    run = uuid.uuid4().hex[:10]
    counter = iter(range(1_000_000))
    return lambda: f"test-{run}-{next(counter)}"


@pytest.fixture
async def client() -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url(os.environ), decode_responses=True)
    yield connection
    await connection.aclose()


@pytest.fixture
async def cleanup(client: redis.Redis) -> AsyncIterator[list[str]]:
    """User ids a test wrote; their keys are removed afterwards."""
    written: list[str] = []
    yield written
    if written:
        await client.delete(*(layout.key(user_id) for user_id in written))


@pytest.fixture
def seed_url() -> Iterator[str]:
    """The configured Redis server's database 9, emptied before and after: seeding there
    cannot disturb the tests that read the session's demo users."""
    yield from _scratch_database(SEED_DB)


@pytest.fixture
def synthetic_url() -> Iterator[str]:
    """Database 10, emptied before and after, for seeding synthetic profiles: neither the
    session's demo users nor ``seed_url``'s tests see them."""
    yield from _scratch_database(SYNTHETIC_DB)


def _scratch_database(number: int) -> Iterator[str]:
    parts = urlsplit(redis_url(os.environ))
    url = urlunsplit(parts._replace(path=f"/{number}"))
    client = sync_redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
