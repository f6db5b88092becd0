"""The bidder's near cache: the last profile answers, kept until the profile service says they
changed.

A bounded LRU of lookups (profiles and "no profile" answers) in front of
:class:`~helios.bidder.profiles_client.ProfilesClient`. It is only as fresh as the
WatchProfiles stream that invalidates it (:mod:`helios.bidder.watcher`), so it holds nothing
while that stream is down: :meth:`NearCache.disable` empties it and every lookup goes to the
profile service, as without a cache; :meth:`NearCache.enable` (the stream is in place again)
starts afresh, since changes may have been missed meanwhile.

A lookup in flight when an invalidation (or a flush) arrives may carry the value from before
the change, so a generation counter, bumped by each of them, is read when the lookup starts and
compared when it returns: a lookup that raced with any change is answered but not stored. One
counter for all keys keeps the cache's memory its entries alone; the price is that a change
also drops the unrelated lookups in flight at that moment, which the next bid fills again.
Timeouts and an unavailable service are never stored: they say nothing about the profile.
"""

from __future__ import annotations

from collections import OrderedDict
from sys import intern
from typing import Protocol

from helios.bidder import metrics
from helios.bidder.profiles_client import NOT_FOUND, Lookup


class Profiles(Protocol):
    async def lookup(self, user_id: str, budget: float) -> Lookup: ...


class NearCache:
    def __init__(self, profiles: Profiles, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._profiles = profiles
        self._capacity = capacity
        self._entries: OrderedDict[str, Lookup] = OrderedDict()
        self._generation = 0
        self._enabled = False
        self._hits = metrics.CACHE_LOOKUPS.labels("hit")
        self._misses = metrics.CACHE_LOOKUPS.labels("miss")
        self._bypassed = metrics.CACHE_LOOKUPS.labels("bypass")

    @property
    def enabled(self) -> bool:
        return self._enabled

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, user_id: str) -> bool:
        return user_id in self._entries

    async def lookup(self, user_id: str, budget: float) -> Lookup:
        if not self._enabled:
            self._bypassed.inc()
            return await self._profiles.lookup(user_id, budget)
        entries = self._entries
        found = entries.get(user_id)
        if found is not None:
            entries.move_to_end(user_id)
            self._hits.inc()
            return found
        self._misses.inc()
        generation = self._generation
        found = await self._profiles.lookup(user_id, budget)
        if generation == self._generation and (found.interests is not None
                                               or found is NOT_FOUND):
            self._store(user_id, found)
        return found

    def invalidate(self, user_id: str) -> None:
        """``user_id``'s profile changed."""
        self._generation += 1
        metrics.CACHE_INVALIDATIONS.inc()
        if self._entries.pop(user_id, None) is not None:
            metrics.CACHE_ENTRIES.set(len(self._entries))

    def enable(self) -> None:
        """The stream is in place: cache from now on, starting empty."""
        self._flush()
        self._enabled = True

    def disable(self) -> None:
        """The stream is down: empty, and every lookup goes to the profile service."""
        self._flush()
        self._enabled = False

    def _flush(self) -> None:
        self._generation += 1
        self._entries.clear()
        metrics.CACHE_ENTRIES.set(0)

    def _store(self, user_id: str, found: Lookup) -> None:
        if found.interests is not None:
            # A copy: the lookup's map belongs to a reply message carrying other users too,
            # which it would keep alive. The dozen interest names are shared by every entry.
            found = Lookup({intern(name): score for name, score in found.interests.items()})
        entries = self._entries
        entries[user_id] = found
        entries.move_to_end(user_id)
        if len(entries) > self._capacity:
            entries.popitem(last=False)
        metrics.CACHE_ENTRIES.set(len(entries))
