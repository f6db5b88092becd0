"""The change feed's pure parts: reading a keyspace notification, and a watcher's queue."""

from __future__ import annotations

import pytest

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
