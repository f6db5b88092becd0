"""Fixtures for the profile tests: a Redis client on the real server, and user ids no other
test (or test run) shares."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from helios.platform.settings import redis_url
from helios.profiles import layout


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
