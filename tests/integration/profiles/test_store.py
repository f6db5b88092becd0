"""ProfileStore against the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis.asyncio as redis

from helios.local.mesh import free_port
from helios.platform.errors import Unavailable
from helios.profiles.model import Profile
from helios.profiles.settings import Settings
from helios.profiles.store import ProfileStore, connect

NewId = Callable[[], str]


async def test_a_profile_is_one_hash_per_user(client: redis.Redis, new_user_id: NewId,
                                              cleanup: list[str]) -> None:
    user_id = new_user_id()
    cleanup.append(user_id)
    await ProfileStore(client).put(Profile(user_id, {"technology": 0.95, "sports": 0.7}))
    assert await client.type(f"helios:profile:{user_id}") == "hash"
    assert await client.hgetall(f"helios:profile:{user_id}") == {
        "technology": "0.95", "sports": "0.7"}


async def test_a_written_profile_reads_back(client: redis.Redis, new_user_id: NewId,
                                            cleanup: list[str]) -> None:
    store = ProfileStore(client)
    user_id = new_user_id()
    cleanup.append(user_id)
    await store.put(Profile(user_id, {"music": 0.5, "news": 0.0, "travel": 1.0}))
    assert await store.get(user_id) == Profile(user_id, {"music": 0.5, "news": 0.0,
                                                         "travel": 1.0})


async def test_a_missing_profile_is_none(client: redis.Redis, new_user_id: NewId) -> None:
    assert await ProfileStore(client).get(new_user_id()) is None


async def test_upsert_replaces_the_interests_rather_than_merging(
        client: redis.Redis, new_user_id: NewId, cleanup: list[str]) -> None:
    store = ProfileStore(client)
    user_id = new_user_id()
    cleanup.append(user_id)
    await store.put(Profile(user_id, {"technology": 0.95, "sports": 0.7}))
    await store.put(Profile(user_id, {"food": 0.4}))
    assert await store.get(user_id) == Profile(user_id, {"food": 0.4})


async def test_readers_never_see_a_half_replaced_profile(
        client: redis.Redis, new_user_id: NewId, cleanup: list[str]) -> None:
    store = ProfileStore(client)
    user_id = new_user_id()
    cleanup.append(user_id)
    first = {"a": 0.1, "b": 0.2}
    second = {"c": 0.3, "d": 0.4}
    await store.put(Profile(user_id, first))
    seen: list[dict[str, float] | None] = []

    async def writer() -> None:
        for n in range(200):
            await store.put(Profile(user_id, second if n % 2 else first))

    async def reader() -> None:
        for _ in range(400):
            profile = await store.get(user_id)
            seen.append(dict(profile.interests) if profile else None)

    await asyncio.gather(writer(), reader(), reader())
    assert all(interests in (first, second) for interests in seen), {
        repr(i) for i in seen if i not in (first, second)}


async def test_a_batch_returns_one_result_per_id_in_order(
        client: redis.Redis, new_user_id: NewId, cleanup: list[str]) -> None:
    store = ProfileStore(client)
    present = [new_user_id() for _ in range(3)]
    cleanup.extend(present)
    for n, user_id in enumerate(present):
        await store.put(Profile(user_id, {"sports": n / 10}))
    absent = new_user_id()
    ids = [present[2], absent, present[0], present[1]]
    assert await store.get_many(ids) == [
        Profile(present[2], {"sports": 0.2}), None,
        Profile(present[0], {"sports": 0.0}), Profile(present[1], {"sports": 0.1})]
    assert await store.get_many([]) == []


async def test_a_batch_is_one_round_trip(client: redis.Redis, new_user_id: NewId,
                                         cleanup: list[str]) -> None:
    store = ProfileStore(client)
    ids = [new_user_id() for _ in range(50)]
    cleanup.extend(ids)
    for user_id in ids:
        await store.put(Profile(user_id, {"a": 0.5}))
    sent: list[int] = []

    # Every round trip of the client goes through a connection's send_packed_command; count
    # how many times the batch reaches the socket.
    connection = await client.connection_pool.get_connection()  # type: ignore[no-untyped-call]
    original = connection.send_packed_command

    async def counting(command: object, check_health: bool = True) -> None:
        sent.append(1)
        await original(command, check_health)

    connection.send_packed_command = counting
    await client.connection_pool.release(connection)
    found = await store.get_many(ids)
    assert all(profile is not None for profile in found)
    assert len(sent) == 1


async def test_delete_reports_whether_there_was_a_profile(
        client: redis.Redis, new_user_id: NewId, cleanup: list[str]) -> None:
    store = ProfileStore(client)
    user_id = new_user_id()
    cleanup.append(user_id)
    await store.put(Profile(user_id, {"a": 0.5}))
    assert await store.delete(user_id) is True
    assert await store.get(user_id) is None
    assert await store.delete(user_id) is False


async def test_a_dead_redis_is_unavailable_within_the_timeout() -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0",
                        redis_timeout_seconds=0.2)
    client = connect(settings)
    store = ProfileStore(client)
    try:
        for call in (store.get("u"), store.get_many(["u", "v"]),
                     store.put(Profile("u", {"a": 0.5})), store.delete("u")):
            with pytest.raises(Unavailable, match=r"^profile store unavailable: "):
                await asyncio.wait_for(call, 5)
    finally:
        await client.aclose(close_connection_pool=True)
