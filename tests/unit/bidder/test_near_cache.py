"""The near cache's rules against a fake profile client: off until enabled, the LRU bound,
what is stored, invalidation, flushes, and a lookup racing a change."""

from __future__ import annotations

import asyncio

import pytest

from helios.bidder.near_cache import NearCache
from helios.bidder.profiles_client import NOT_FOUND, TIMED_OUT, UNAVAILABLE, Lookup


class FakeProfiles:
    """Answers from ``answers`` (a found profile when absent), counting calls per user; holds
    each call until ``gate`` is set when there is one."""

    def __init__(self, answers: dict[str, Lookup] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.version = 1

    async def lookup(self, user_id: str, budget: float) -> Lookup:
        self.calls.append(user_id)
        answer = self.answers.get(user_id, Lookup({"sports": self.version / 10}))
        if self.gate is not None:
            await self.gate.wait()
        return answer


def cache(profiles: FakeProfiles, capacity: int = 10) -> NearCache:
    near = NearCache(profiles, capacity)
    near.enable()
    return near


async def test_a_second_lookup_is_answered_from_the_cache() -> None:
    profiles = FakeProfiles()
    near = cache(profiles)
    first = await near.lookup("u1", 1.0)
    second = await near.lookup("u1", 1.0)
    assert first == second == Lookup({"sports": 0.1})
    assert profiles.calls == ["u1"]


async def test_no_profile_is_cached_but_failures_are_not() -> None:
    profiles = FakeProfiles({"gone": NOT_FOUND, "slow": TIMED_OUT, "down": UNAVAILABLE})
    near = cache(profiles)
    for user_id in ("gone", "slow", "down") * 2:
        await near.lookup(user_id, 1.0)
    assert profiles.calls == ["gone", "slow", "down", "slow", "down"]
    assert await near.lookup("gone", 1.0) is NOT_FOUND


async def test_a_disabled_cache_stores_nothing() -> None:
    profiles = FakeProfiles()
    near = NearCache(profiles, 10)
    await near.lookup("u1", 1.0)
    await near.lookup("u1", 1.0)
    assert profiles.calls == ["u1", "u1"] and len(near) == 0


async def test_the_least_recently_used_entry_goes_first() -> None:
    profiles = FakeProfiles()
    near = cache(profiles, capacity=2)
    await near.lookup("a", 1.0)
    await near.lookup("b", 1.0)
    await near.lookup("a", 1.0)  # a is now the most recent
    await near.lookup("c", 1.0)  # evicts b
    assert len(near) == 2 and "a" in near and "c" in near and "b" not in near
    await near.lookup("b", 1.0)
    assert profiles.calls == ["a", "b", "c", "b"]


async def test_an_invalidated_user_is_looked_up_again() -> None:
    profiles = FakeProfiles()
    near = cache(profiles)
    await near.lookup("u1", 1.0)
    profiles.version = 2
    near.invalidate("u1")
    assert await near.lookup("u1", 1.0) == Lookup({"sports": 0.2})
    assert profiles.calls == ["u1", "u1"]


async def test_a_lookup_that_raced_an_invalidation_is_answered_but_not_stored() -> None:
    profiles = FakeProfiles()
    profiles.gate = asyncio.Event()
    near = cache(profiles)
    in_flight = asyncio.create_task(near.lookup("u1", 1.0))
    await asyncio.sleep(0)  # the lookup has asked the profile service
    near.invalidate("u1")  # the change arrives before the (older) answer
    profiles.gate.set()
    assert await in_flight == Lookup({"sports": 0.1})
    assert "u1" not in near
    profiles.gate = None
    profiles.version = 2
    assert await near.lookup("u1", 1.0) == Lookup({"sports": 0.2})


async def test_a_lookup_that_raced_the_stream_going_down_is_not_stored() -> None:
    profiles = FakeProfiles()
    profiles.gate = asyncio.Event()
    near = cache(profiles)
    in_flight = asyncio.create_task(near.lookup("u1", 1.0))
    await asyncio.sleep(0)
    near.disable()
    near.enable()  # the stream came back while the lookup was out
    profiles.gate.set()
    await in_flight
    assert len(near) == 0


async def test_losing_the_stream_flushes_and_bypasses_the_cache() -> None:
    profiles = FakeProfiles()
    near = cache(profiles)
    await near.lookup("u1", 1.0)
    await near.lookup("u2", 1.0)
    near.disable()
    assert len(near) == 0 and not near.enabled
    await near.lookup("u1", 1.0)
    await near.lookup("u1", 1.0)
    assert profiles.calls == ["u1", "u2", "u1", "u1"]
    near.enable()
    await near.lookup("u1", 1.0)
    await near.lookup("u1", 1.0)
    assert profiles.calls == ["u1", "u2", "u1", "u1", "u1"]


async def test_a_stored_profile_does_not_share_the_lookups_map() -> None:
    interests = {"sports": 0.5}
    near = cache(FakeProfiles({"u1": Lookup(interests)}))
    await near.lookup("u1", 1.0)
    interests["sports"] = 0.9
    assert await near.lookup("u1", 1.0) == Lookup({"sports": 0.5})


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        NearCache(FakeProfiles(), 0)
