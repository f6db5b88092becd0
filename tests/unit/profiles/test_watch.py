"""The change feed's pure parts: reading a keyspace notification, and a watcher's queue."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
import redis.asyncio as redis

from helios.profiles import watch
from helios.profiles.watch import Change, Missed, Subscription, parse

PREFIX = "__keyspace@0__:helios:profile:"


def test_a_notification_names_the_user_and_whether_the_profile_is_gone() -> None:
    assert parse(PREFIX + "user-001", "hset", PREFIX) == Change("user-001", deleted=False)
    assert parse(PREFIX + "user-001", "del", PREFIX) == Change("user-001", deleted=True)
    assert parse(PREFIX + "u:2", "expired", PREFIX) == Change("u:2", deleted=True)
    assert parse("__keyspace@0__:other:user-001", "hset", PREFIX) is None


async def test_a_watcher_gets_its_changes_in_order() -> None:
    subscription = Subscription(10)
    subscription.put(Change("a", False))
    subscription.put(Change("b", True))
    assert [await anext(subscription), await anext(subscription)] == [
        Change("a", False), Change("b", True)]


async def test_a_watcher_that_falls_behind_is_told_it_missed_changes() -> None:
    subscription = Subscription(2)
    for user_id in ("a", "b", "c"):
        subscription.put(Change(user_id, False))
    with pytest.raises(Missed):
        await anext(subscription)


async def test_a_lost_watcher_gets_nothing_more() -> None:
    subscription = Subscription(10)
    subscription.put(Change("a", False))
    subscription.lose()
    subscription.put(Change("b", False))
    with pytest.raises(Missed):
        await anext(subscription)


class SilentPubSub:
    """Confirms the subscription, then never delivers anything, not even PING's answer: a
    connection that died without saying so."""

    def __init__(self) -> None:
        self.pings = 0
        self.confirmed = False

    async def psubscribe(self, pattern: str) -> None:
        pass

    # redis-py's own signature, timeout and all.
    async def get_message(self, timeout: float) -> dict[str, Any] | None:  # noqa: ASYNC109
        if not self.confirmed:
            self.confirmed = True
            return {"type": "psubscribe", "channel": "p", "data": 1}
        await asyncio.sleep(timeout)
        return None

    async def ping(self) -> None:
        self.pings += 1

    async def aclose(self) -> None:
        pass


class FakeRedis:
    def __init__(self) -> None:
        self.connection_pool = SimpleNamespace(connection_kwargs={"db": 0})
        self.pubsubs: list[SilentPubSub] = []

    async def config_get(self, name: str) -> dict[str, str]:
        return {name: "Kghxe"}

    def pubsub(self) -> SilentPubSub:
        self.pubsubs.append(SilentPubSub())
        return self.pubsubs[-1]


async def test_a_subscription_that_stops_answering_is_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "IDLE_SECONDS", 0.01)
    monkeypatch.setattr(watch, "RETRY_INITIAL_SECONDS", 0.01)
    client = FakeRedis()
    feed = watch.ChangeFeed(cast(redis.Redis, client))
    task = asyncio.create_task(feed.run())
    try:
        subscription = await asyncio.wait_for(feed.subscribe(), 1)
        with pytest.raises(Missed):
            await asyncio.wait_for(anext(subscription), 1)
        assert client.pubsubs[0].pings == 1  # one unanswered PING, then given up
        await asyncio.wait_for(feed.subscribe(), 1)  # and subscribed again
        assert len(client.pubsubs) >= 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
