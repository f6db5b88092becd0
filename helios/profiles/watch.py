"""Every change of a profile, from Redis's keyspace notifications, fanned out to the watchers.

One pubsub subscription per process (``PSUBSCRIBE __keyspace@<db>__:helios:profile:*``) sees
every write to a profile key, whoever made it: this service, the seed command, an operator's
redis-cli. Each WatchProfiles stream holds a :class:`Subscription`, a bounded queue the feed
puts every change into. Nothing is ever dropped silently: a watcher whose queue is full, and
every watcher when the subscription to Redis is lost, is told it missed changes (the stream
then ends, and the bidder flushes its cache).

Redis sends keyspace events only for the classes named in ``notify-keyspace-events``; the feed
adds the ones it needs (:data:`EVENT_FLAGS`) to whatever is configured when it subscribes. A
Redis that refuses CONFIG SET must be configured by its operator. FLUSHDB and FLUSHALL send no
per-key event, so they are not seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from helios.profiles import layout

log = logging.getLogger(__name__)

# K: keyspace channels (named by key); g: DEL, EXPIRE, RENAME...; h: hash commands; x: expired;
# e: evicted.
EVENT_FLAGS = "Kghxe"
# Events after which the key no longer exists.
REMOVED = frozenset({"del", "expired", "evicted", "rename_from"})
# Changes a watcher may lag behind before it is cut off.
QUEUE_SIZE = 10_000
# A subscription silent this long is PINGed.
IDLE_SECONDS = 5.0
RETRY_INITIAL_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Change:
    user_id: str
    deleted: bool


class Missed(Exception):
    """The watcher cannot be told every change any more (Redis lost, or it fell behind)."""


_LOST = object()


class Subscription:
    """One watcher's changes, in order; iterating raises :class:`Missed` when some are lost."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Change | object] = asyncio.Queue(size)
        self._lost = False

    def put(self, item: Change | object) -> None:
        if self._lost:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lose()

    def lose(self) -> None:
        if not self._lost:
            self._lost = True
            # A lost watcher needs one slot only: drop what it has not read.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(_LOST)

    def __aiter__(self) -> AsyncIterator[Change]:
        return self

    async def __anext__(self) -> Change:
        item = await self._queue.get()
        if isinstance(item, Change):
            return item
        raise Missed("changes were missed")


def parse(channel: str, event: str, prefix: str) -> Change | None:
    """The change a keyspace notification names, or None for a key that is not a profile."""
    if not channel.startswith(prefix):
        return None
    return Change(channel[len(prefix):], event in REMOVED)


class ChangeFeed:
    """The process's one subscription to profile changes; :meth:`run` is a background task.

    ``client`` should be its own (a pubsub connection is held for good), built without a socket
    timeout, since an idle subscription reads nothing for as long as nobody writes."""

    def __init__(self, client: redis.Redis, *, queue_size: int = QUEUE_SIZE) -> None:
        self._redis = client
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._ready = asyncio.Event()
        self._closed = False
        db = client.connection_pool.connection_kwargs.get("db", 0)
        self._channel_prefix = f"__keyspace@{db}__:{layout.KEY_PREFIX}"

    async def subscribe(self) -> Subscription:
        """A new watcher, once the feed is subscribed to Redis (it waits while it is not)."""
        # Checked again after each wake-up, with no await before the watcher is added: the
        # subscription may have been lost again in between.
        while not self._ready.is_set() and not self._closed:
            await self._ready.wait()
        if self._closed:
            raise Missed("the service is stopping")
        subscription = Subscription(self._queue_size)
        self._subscribers.add(subscription)
        return subscription

    def close(self) -> None:
        """The service is stopping: every watcher is cut off, and a new one refused, so that
        they move to another process at once rather than at the end of the grace period."""
        self._closed = True
        self._ready.set()  # wakes the watchers waiting in subscribe, to be refused
        self._lose_all()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    async def run(self) -> None:
        delay = RETRY_INITIAL_SECONDS
        while not self._closed:
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                log.warning("profile change feed lost Redis; retrying",
                            extra={"error": f"{type(exc).__name__}: {exc}",
                                   "retry_seconds": delay})
            finally:
                self._lose_all()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _listen(self) -> None:
        await self._enable_notifications()
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(self._channel_prefix + "*")
            # The subscription is in place once Redis confirms it; only then may a watcher be
            # told that every later change reaches it.
            while await pubsub.get_message(timeout=5.0) is None:
                pass
            if self._closed:
                return
            self._ready.set()
            log.info("watching profile changes", extra={"channel": self._channel_prefix + "*"})
            pinged = False
            while True:
                # Not ignore_subscribe_messages: with decode_responses redis-py files the PING's
                # answer under a type of its own, and would drop it as a subscribe message.
                message: dict[str, Any] | None = await pubsub.get_message(
                    timeout=IDLE_SECONDS)
                if message is None:
                    # Idle: a PING proves the connection still delivers; no answer within
                    # another idle period means a dead connection that never said so.
                    if pinged:
                        raise RedisConnectionError("no answer to PING on the subscription")
                    await pubsub.ping()
                    pinged = True
                    continue
                pinged = False
                if message["type"] != "pmessage":
                    continue
                change = parse(_text(cast(str | bytes, message["channel"])),
                               _text(cast(str | bytes, message["data"])), self._channel_prefix)
                if change is not None:
                    for subscriber in list(self._subscribers):
                        subscriber.put(change)
        finally:
            if not self._closed:
                self._ready.clear()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _enable_notifications(self) -> None:
        try:
            reply = await self._redis.config_get("notify-keyspace-events")
            current = str(reply.get("notify-keyspace-events") or "")
            wanted = "".join(sorted(set(current) | set(EVENT_FLAGS)))
            if set(wanted) != set(current):
                await self._redis.config_set("notify-keyspace-events", wanted)
        except ResponseError as exc:
            # A managed Redis may refuse CONFIG: its operator sets the flags instead.
            log.warning("cannot set notify-keyspace-events; changes are seen only if it holds %s",
                        EVENT_FLAGS, extra={"error": str(exc)})

    def _lose_all(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.lose()
        self._subscribers.clear()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
