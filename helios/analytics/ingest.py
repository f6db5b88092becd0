"""The ingest loop: Kafka ``auction_outcomes`` -> PostgreSQL, in batches, at least once
delivered and exactly once stored.

Order of events for one batch: consume (up to ``batch_size`` messages or ``batch_linger_ms``),
decode, one INSERT ... ON CONFLICT DO NOTHING, database commit, the batch's dead letters
acknowledged by Kafka, then the Kafka offset commit. A crash before the offset commit
re-delivers the batch, which the conflict clause turns into a no-op. While PostgreSQL is
unreachable the loop pauses the assigned partitions and retries the same batch with capped
exponential back-off; it keeps polling so the consumer stays in its group, and messages that
arrive meanwhile (a partition assigned during the outage) join the batch.

A message that cannot be stored goes to the dead-letter topic ``auction_outcomes.dlq`` as
received, with the reason in its ``error`` header (see :mod:`helios.platform.kafka`): one that
does not decode (``helios_analytics_undecodable_total``) and one PostgreSQL refuses as data
(``helios_analytics_rejected_total``). Stopping would block every outcome behind it; dropping
it would lose it. Until Kafka acknowledges the dead letters the offsets are not committed, and
sending them is retried like a database write.

With tracing on, every message of a written batch gets a CONSUMER span, child of the context in
its ``traceparent`` header, from the start of the batch's write to its offset commit: one span
per outcome (not one per batch with links) so that each bid's trace ends where it was stored.
The spans are made after the commit, off the write path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DataError, DBAPIError

from helios.analytics.decode import OutcomeRow, Undecodable, decode
from helios.platform import tracing

log = logging.getLogger(__name__)
T = TypeVar("T")

STORED = Counter("helios_analytics_ingested_messages_total",
                 "auction_outcomes messages written to PostgreSQL (re-deliveries included).")
UNDECODABLE = Counter("helios_analytics_undecodable_total",
                      "auction_outcomes messages sent to the dead-letter topic because they could "
                      "not be decoded.")
DB_RETRIES = Counter("helios_analytics_db_retries_total",
                     "Batch writes retried because PostgreSQL failed.")
BATCH_SECONDS = Histogram("helios_analytics_batch_write_seconds",
                          "Time to insert one batch and commit the transaction.",
                          buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))

REJECTED = Counter("helios_analytics_rejected_total",
                   "Decoded outcomes PostgreSQL refused as data (DataError), sent to the "
                   "dead-letter topic.")
DLQ_RETRIES = Counter("helios_analytics_dlq_retries_total",
                      "Dead-letter sends retried because Kafka did not acknowledge them.")
# How long one dead-letter send may wait for Kafka's acknowledgement before it is retried.
DLQ_TIMEOUT_SECONDS = 10.0

# Anything the database or the network raises is retried with the same batch: an outage, a
# restart (AdminShutdown), a missing table before migrations ran. Only DataError is about the
# rows themselves, and is handled by isolating the offending row instead.
RETRYABLE: tuple[type[BaseException], ...] = (DBAPIError, OSError, asyncio.TimeoutError)


class Store(Protocol):
    async def insert(self, rows: list[OutcomeRow]) -> None: ...


class DeadLetterSink(Protocol):
    """The seam: :class:`helios.platform.kafka.DeadLetters` or a test's fake."""

    def send(self, dead: list[tuple[Message, str]], timeout: float) -> None: ...


class Backoff:
    """Capped exponential back-off; pure, so its schedule is tested directly."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


def commit_positions(messages: list[Message]) -> list[TopicPartition]:
    """The offsets to commit after ``messages``: per partition, one past the highest."""
    highest: dict[tuple[str, int], int] = {}
    for message in messages:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        # Only error events lack these, and those never reach a batch.
        assert topic is not None and partition is not None and offset is not None
        key = (topic, partition)
        if offset > highest.get(key, -1):
            highest[key] = offset
    return [TopicPartition(topic, partition, offset + 1)
            for (topic, partition), offset in sorted(highest.items())]


@dataclass
class Batch:
    """Messages taken from Kafka, the rows decoded from them, and the messages to dead-letter
    with the reason (those have no row; their offsets are committed past once they are kept)."""

    messages: list[Message] = field(default_factory=list)
    rows: list[OutcomeRow] = field(default_factory=list)
    dead: list[tuple[Message, str]] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.messages += other.messages
        self.rows += other.rows
        self.dead += other.dead


class Ingestor:
    """Runs the loop above. The consumer and the store come in through the constructor.

    Every consumer call runs on one dedicated thread, so the consumer is never used from two
    threads at once, and the next batch is consumed and decoded there while the current one is
    written: the decoding (here) and the inserting (PostgreSQL) use the two cores in parallel.
    """

    def __init__(self, consumer: Consumer, store: Store, dead_letters: DeadLetterSink,
                 topic: str, *, batch_size: int, linger_seconds: float, backoff: Backoff,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._consumer = consumer
        self._store = store
        self._dead_letters = dead_letters
        self._topic = topic
        self._batch_size = batch_size
        self._linger = linger_seconds
        self._backoff = backoff
        self._clock = clock
        self._kafka_thread = ThreadPoolExecutor(1, thread_name_prefix="analytics-kafka")
        self._traced = tracing.enabled()

    def _on_kafka_thread(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._kafka_thread, fn, *args)

    async def run(self) -> None:
        """Consumes until cancelled; then closes the consumer (leaving the group at once)."""
        await self._on_kafka_thread(self._consumer.subscribe, [self._topic])
        log.info("ingest started", extra={"topic": self._topic})
        try:
            collecting = self._on_kafka_thread(self._collect)
            while True:
                batch = await collecting
                collecting = self._on_kafka_thread(self._collect)
                if batch.messages:
                    collecting = await self._write(batch, collecting)
        finally:
            # Queued behind any collection still running on the Kafka thread.
            await self._on_kafka_thread(self._consumer.close)
            self._kafka_thread.shutdown(wait=False)
            log.info("ingest stopped")

    def _collect(self) -> Batch:
        """Blocks (on the Kafka thread) until a batch is full or its linger has passed since
        its first message; an idle topic gives an empty batch every half second."""
        messages: list[Message] = []
        deadline = self._clock() + 0.5
        while len(messages) < self._batch_size:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            got = self._consumer.consume(self._batch_size - len(messages), timeout=remaining)
            for message in got:
                error = message.error()
                if error is None:
                    if not messages:
                        deadline = min(deadline, self._clock() + self._linger)
                    messages.append(message)
                elif error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka consumer error", extra={"error": str(error)})
        return self._decode(messages)

    def _collect_late(self) -> Batch:
        got = self._consumer.consume(self._batch_size, timeout=0)
        return self._decode([m for m in got if m.error() is None])

    async def _write(self, batch: Batch,
                     collecting: asyncio.Future[Batch]) -> asyncio.Future[Batch]:
        """Stores ``batch`` (retrying until it lands), then commits its offsets. Returns the
        collection to continue with: ``collecting`` itself, or a new one if an outage made
        this batch absorb it."""
        paused: list[TopicPartition] | None = None
        self._backoff.reset()
        write_started_ns = time.time_ns()
        while True:
            started = time.perf_counter()
            try:
                try:
                    await self._store.insert(batch.rows)
                except DataError:
                    batch.rows, refused = await self._isolate(batch.rows)
                    batch.dead += _messages_of(refused, batch.messages)
            except RETRYABLE as exc:
                DB_RETRIES.inc()
                delay = self._backoff.next_delay()
                if paused is None:
                    # The batch being collected joins this one: the offsets committed after
                    # the retry then cover only written messages, in order.
                    batch.extend(await collecting)
                    paused = await self._on_kafka_thread(self._pause)
                log.warning("database write failed; retrying the same batch",
                            extra={"error": f"{type(exc).__name__}: {exc}"[:500],
                                   "batch": len(batch.rows), "retry_in_seconds": delay})
                await asyncio.sleep(delay)
                # Keeps the group membership alive; only partitions assigned during the
                # outage can deliver, and those messages join this batch too.
                batch.extend(await self._on_kafka_thread(self._collect_late))
                continue
            BATCH_SECONDS.observe(time.perf_counter() - started)
            break
        STORED.inc(len(batch.rows))
        if batch.dead:
            await self._send_dead_letters(batch.dead)
        if paused is not None:
            log.info("database is back; resuming", extra={"batch": len(batch.rows)})
            await self._on_kafka_thread(self._resume, paused)
            collecting = self._on_kafka_thread(self._collect)
        await self._on_kafka_thread(self._commit, batch.messages)
        if self._traced:
            self._trace_stored(batch.messages, write_started_ns)
        return collecting

    def _trace_stored(self, messages: list[Message], started_ns: int) -> None:
        ended_ns = time.time_ns()
        for message in messages:
            headers = cast(tracing.Headers | None, message.headers())
            key = message.key()
            span = tracing.consumer_span(
                f"{self._topic} store", tracing.from_headers(headers), start_time=started_ns,
                attributes={"messaging.system": "kafka",
                            "messaging.destination.name": self._topic,
                            "helios.bid_request_id": key.decode(errors="replace")
                            if isinstance(key, bytes) else str(key or "")})
            span.end(ended_ns)

    async def _send_dead_letters(self, dead: list[tuple[Message, str]]) -> None:
        """Returns once Kafka acknowledged every dead letter, retrying with back-off."""
        self._backoff.reset()
        while True:
            try:
                await asyncio.to_thread(self._dead_letters.send, dead, DLQ_TIMEOUT_SECONDS)
                return
            except (KafkaException, BufferError) as exc:
                DLQ_RETRIES.inc()
                delay = self._backoff.next_delay()
                log.warning("dead letters not acknowledged; retrying",
                            extra={"error": str(exc)[:500], "messages": len(dead),
                                   "retry_in_seconds": delay})
                await asyncio.sleep(delay)

    async def _isolate(self, rows: list[OutcomeRow],
                       ) -> tuple[list[OutcomeRow], list[tuple[OutcomeRow, str]]]:
        """Writes the rows one at a time; returns the rows kept, and those PostgreSQL refuses
        as data with its reason. Connection errors propagate to the caller's retry loop."""
        kept: list[OutcomeRow] = []
        refused: list[tuple[OutcomeRow, str]] = []
        for row in rows:
            try:
                await self._store.insert([row])
            except DataError as exc:
                REJECTED.inc()
                reason = f"refused by PostgreSQL: {exc.orig}"[:500]
                log.error("an outcome the database refused goes to the dead-letter topic",
                          extra={"bid_request_id": row.bid_request_id, "error": reason})
                refused.append((row, reason))
            else:
                kept.append(row)
        return kept, refused

    def _decode(self, messages: list[Message]) -> Batch:
        batch = Batch(messages)
        for message in messages:
            try:
                batch.rows.append(decode(message.value(), _message_time(message)))
            except Undecodable as exc:
                UNDECODABLE.inc()
                log.error("an undecodable auction outcome goes to the dead-letter topic",
                          extra={"topic": message.topic(), "partition": message.partition(),
                                 "offset": message.offset(), "error": str(exc)})
                batch.dead.append((message, f"undecodable: {exc}"))
        return batch

    def _pause(self) -> list[TopicPartition]:
        assignment: list[TopicPartition] = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)
        return assignment

    def _resume(self, partitions: list[TopicPartition]) -> None:
        try:
            self._consumer.resume(partitions)
        except KafkaException as exc:
            # A partition revoked meanwhile cannot be resumed; its new owner reads it.
            log.warning("resume failed", extra={"error": str(exc)})

    def _commit(self, messages: list[Message]) -> None:
        try:
            self._consumer.commit(offsets=commit_positions(messages), asynchronous=False)
        except KafkaException as exc:
            # Typically a rebalance took the partition away: its new owner re-reads from the
            # last commit, and the conflict clause makes that harmless.
            log.warning("offset commit failed; the batch may be re-delivered",
                        extra={"error": str(exc)})


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
