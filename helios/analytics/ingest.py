"""Kafka ``auction_outcomes`` -> PostgreSQL: the analytics service's handler for the platform's
consumer loop (:mod:`helios.platform.consumer`), exactly once stored.

One batch: decode every message, one INSERT ... ON CONFLICT DO NOTHING for the rows, commit in
PostgreSQL; the loop then commits the Kafka offsets. A re-delivered batch is a no-op thanks to
the conflict clause. A database that is away (an outage, a restart, the schema not migrated
yet) is a :class:`~helios.platform.consumer.Retry`: the loop retries the same batch.

What cannot be stored goes to ``auction_outcomes.dlq`` as received, with the reason: a message
that does not decode (``helios_analytics_undecodable_total``), an outcome older than the
retention, whose day's partition is gone (``helios_analytics_expired_total``; stored, it would
be dropped again and, redelivered, counted twice by the rollup), and a row PostgreSQL refuses
as data (``helios_analytics_rejected_total``); the batch's other rows are stored. Stopping would
block every outcome behind it; dropping it would lose it.

With tracing on, every message of a stored batch gets a CONSUMER span, child of the context in
its ``traceparent`` header, from the start of the batch's write to its offset commit: one span
per outcome (not one per batch with links) so that each bid's trace ends where it was stored.
The spans are made after the commit, off the write path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, cast

import asyncpg
from confluent_kafka import Message
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DBAPIError

from helios.analytics.decode import OutcomeRow, Undecodable, decode
from helios.analytics.partitions import Retention, utc_day
from helios.analytics.store import Refused
from helios.platform import tracing
from helios.platform.consumer import Retry
from helios.platform.kafka import Headers

log = logging.getLogger(__name__)

STORED = Counter("helios_analytics_ingested_messages_total",
                 "auction_outcomes messages written to PostgreSQL (re-deliveries included).")
UNDECODABLE = Counter("helios_analytics_undecodable_total",
                      "auction_outcomes messages sent to the dead-letter topic because they could "
                      "not be decoded.")
EXPIRED = Counter("helios_analytics_expired_total",
                  "auction_outcomes messages sent to the dead-letter topic because their auction "
                  "day is older than the retention.")
REJECTED = Counter("helios_analytics_rejected_total",
                   "Decoded outcomes PostgreSQL refused as data (Refused), sent to the "
                   "dead-letter topic.")
BATCH_SECONDS = Histogram("helios_analytics_batch_write_seconds",
                          "Time to insert one batch and commit the transaction.",
                          buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))

# Anything the database or the network raises is retried with the same batch: an outage, a
# restart (AdminShutdown), a missing table before migrations ran. Only Refused is about the
# rows themselves, and is handled by isolating the offending row instead. The store's COPY and
# INSERT go to asyncpg directly, so their errors arrive as asyncpg's.
RETRYABLE: tuple[type[BaseException], ...] = (
    DBAPIError, OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Store(Protocol):
    async def insert(self, rows: list[OutcomeRow]) -> None: ...


class OutcomeWriter:
    """Stores a batch of outcome messages through ``store``; the loop's handler."""

    def __init__(self, store: Store, topic: str, *, tracer: tracing.Tracing,
                 retention: Retention,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._topic = topic
        self._tracing = tracer
        self._retention = retention
        self._clock = clock
        self._write_started_ns = 0

    async def handle(self, messages: list[Message]) -> list[tuple[Message, str]]:
        self._write_started_ns = time.time_ns()
        rows, dead = self.decode(messages)
        started = time.perf_counter()
        try:
            try:
                await self._store.insert(rows)
            except Refused:
                rows, refused = await self._isolate(rows)
                dead += _messages_of(refused, messages)
        except RETRYABLE as exc:
            raise Retry(f"database write failed: {type(exc).__name__}: {exc}") from exc
        BATCH_SECONDS.observe(time.perf_counter() - started)
        STORED.inc(len(rows))
        return dead

    def committed(self, messages: list[Message]) -> None:
        if self._tracing.enabled:
            self._trace_stored(messages)

    def decode(self, messages: list[Message]) -> tuple[list[OutcomeRow], list[tuple[Message, str]]]:
        rows: list[OutcomeRow] = []
        dead: list[tuple[Message, str]] = []
        today = utc_day(self._clock())
        for message in messages:
            try:
                row = decode(message.value(), _message_time(message))
            except Undecodable as exc:
                UNDECODABLE.inc()
                log.error("an undecodable auction outcome goes to the dead-letter topic",
                          extra={"topic": message.topic(), "partition": message.partition(),
                                 "offset": message.offset(), "error": str(exc)})
                dead.append((message, f"undecodable: {exc}"))
                continue
            if self._retention.expired(utc_day(row.auction_timestamp), today):
                EXPIRED.inc()
                reason = (f"expired: auction_timestamp {row.auction_timestamp.isoformat()} is "
                          f"older than the retention of {self._retention.days} days")
                log.error("an outcome older than the retention goes to the dead-letter topic",
                          extra={"bid_request_id": row.bid_request_id, "error": reason})
                dead.append((message, reason))
                continue
            rows.append(row)
        return rows, dead

    async def _isolate(self, rows: list[OutcomeRow],
                       ) -> tuple[list[OutcomeRow], list[tuple[OutcomeRow, str]]]:
        """Writes the rows one at a time; returns the rows kept, and those PostgreSQL refuses
        as data with its reason. Connection errors propagate to the caller's retry."""
        kept: list[OutcomeRow] = []
        refused: list[tuple[OutcomeRow, str]] = []
        for row in rows:
            try:
                await self._store.insert([row])
            except Refused as exc:
                REJECTED.inc()
                reason = f"refused by PostgreSQL: {exc}"[:500]
                log.error("an outcome the database refused goes to the dead-letter topic",
                          extra={"bid_request_id": row.bid_request_id, "error": reason})
                refused.append((row, reason))
            else:
                kept.append(row)
        return kept, refused

    def _trace_stored(self, messages: list[Message]) -> None:
        ended_ns = time.time_ns()
        for message in messages:
            key = message.key()
            span = self._tracing.consumer_span(
                f"{self._topic} store",
                tracing.from_headers(cast(Headers | None, message.headers())),
                start_time=self._write_started_ns,
                attributes={"messaging.system": "kafka",
                            "messaging.destination.name": self._topic,
                            "helios.bid_request_id": key.decode(errors="replace")
                            if isinstance(key, bytes) else str(key or "")})
            span.end(ended_ns)


def _message_time(message: Message) -> datetime:
    kind, millis = message.timestamp()
    if kind == 0 or millis <= 0:  # TIMESTAMP_NOT_AVAILABLE
        return datetime.now(UTC)
    return datetime.fromtimestamp(millis / 1000, UTC)


def _messages_of(refused: list[tuple[OutcomeRow, str]],
                 messages: list[Message]) -> list[tuple[Message, str]]:
    """The messages the refused rows came from (the auction keys each by bid_request_id)."""
    by_key = {message.key(): message for message in messages}
    found: list[tuple[Message, str]] = []
    for row, reason in refused:
        message = by_key.get(row.bid_request_id.encode())
        if message is None:
            log.error("no message keyed by a refused outcome's id; it is not dead-lettered",
                      extra={"bid_request_id": row.bid_request_id})
        else:
            found.append((message, reason))
    return found
