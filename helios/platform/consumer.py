"""The one Kafka consumer loop of the mesh, for the auction and for analytics: a batch in,
handled, its dead letters acknowledged by Kafka, then its offsets committed.

    collect     up to ``batch_size`` messages: the first as soon as it arrives, the rest for at
                most ``linger_seconds`` after it (a lone message is not held back)
    handle      the handler takes the whole batch and returns the messages it cannot use,
                each with the reason; it raises :class:`Retry` when the batch should be handled
                again later (the database or the broker is away)
    dead-letter those messages go to the dead-letter topic as received, with the reason in
                their ``error`` header (:class:`helios.platform.kafka.DeadLetters`); until Kafka
                acknowledges them, nothing is committed
    commit      one past the highest offset per partition

At least once, never lost: a crash before the commit re-delivers the batch, so a handler makes
re-handling harmless (analytics' ON CONFLICT, the auction's deterministic decision). While the
handler asks for a retry, the assigned partitions are paused and the same batch is handled
again after a capped exponential back-off with jitter; the consumer keeps polling, so it stays
in its group, and messages from partitions assigned meanwhile join the batch.

The consumer is used from one dedicated thread only, as librdkafka requires, and the next batch
is collected there while the current one is handled.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from prometheus_client import Counter, Gauge

from helios.platform.kafka import DeadLetters, consumer_config, producer_config

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a consumer waits for a first message before it looks again (a stop is noticed then).
IDLE_SECONDS = 0.5
# How long one dead-letter send may wait for Kafka's acknowledgement before it is retried.
DLQ_TIMEOUT_SECONDS = 10.0
# Bound on each broker request that measures the lag while a batch is retried (the broker may
# be what is away).
LAG_TIMEOUT_SECONDS = 0.5
# Fetch in large chunks: batches of thousands are what make one INSERT, or one wait for the
# producer's acknowledgements, per batch cheap.
FETCH = {"fetch.min.bytes": 65_536, "fetch.wait.max.ms": 50}

BATCHES = Counter("helios_consumer_batches_total",
                  "Batches handled and committed, by consumer.", ["consumer"])
MESSAGES = Counter("helios_consumer_messages_total",
                   "Messages handled and committed (dead letters included), by consumer.",
                   ["consumer"])
RETRIES = Counter("helios_consumer_retries_total",
                  "Batches handled again, by consumer and what failed: the handler (database "
                  "or broker away) or the dead-letter send.", ["consumer", "step"])
DEAD_LETTERS = Counter("helios_consumer_dead_letters_total",
                       "Messages sent to the dead-letter topic, by consumer.", ["consumer"])
LAG = Gauge("helios_consumer_lag_messages",
            "Messages in the assigned partitions after the committed offsets, by consumer: "
            "measured after each commit, and while a batch is retried.", ["consumer"])


class Retry(Exception):
    """Raised by a handler: handle the same batch again later."""


class Handler(Protocol):
    async def handle(self, messages: list[Message]) -> list[tuple[Message, str]]:
        """Handles every message of the batch, or raises Retry; returns the messages to
        dead-letter, each with the reason."""
        ...

    def committed(self, messages: list[Message]) -> None:
        """Called once the batch's offsets are committed (metrics, traces)."""
        ...


class DeadLetterSink(Protocol):
    """:class:`helios.platform.kafka.DeadLetters`, or a test's fake."""

    def send(self, dead: list[tuple[Message, str]], timeout: float) -> None: ...


class Backoff:
    """Capped exponential back-off with jitter; pure, so its schedule is tested directly.

    Each delay is the doubling schedule's value times a factor drawn in [1 - jitter, 1 +
    jitter], so that consumers that failed together do not retry in step."""

    def __init__(self, initial: float, maximum: float, *, jitter: float = 0.2,
                 rand: Callable[[], float] = random.random) -> None:
        self.initial = initial
        self.maximum = maximum
        self._jitter = jitter
        self._rand = rand
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay * (1 + self._jitter * (2 * self._rand() - 1))

    def reset(self) -> None:
        self._next = self.initial


def build(name: str, bootstrap: str, group: str, topic: str, dead_letter_topic: str,
          handler: Handler, *, batch_size: int, linger_seconds: float, backoff: Backoff,
          producer: Producer | None = None) -> ConsumerLoop:
    """A loop with a consumer of the platform's defaults (:func:`consumer_config`, fetching in
    chunks) and dead letters through ``producer`` (a new one when None)."""
    consumer = Consumer(consumer_config(bootstrap, group, **FETCH))
    dead_letters = DeadLetters(producer or Producer(producer_config(bootstrap)),
                               dead_letter_topic)
    return ConsumerLoop(name, consumer, handler, dead_letters, topic, batch_size=batch_size,
                        linger_seconds=linger_seconds, backoff=backoff)


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


class ConsumerLoop:
    """Runs the loop above for one consumer (group member) and one handler."""

    def __init__(self, name: str, consumer: Consumer, handler: Handler,
                 dead_letters: DeadLetterSink, topic: str, *, batch_size: int,
                 linger_seconds: float, backoff: Backoff) -> None:
        self._name = name
        self._consumer = consumer
        self._handler = handler
        self._dead_letters = dead_letters
        self._topic = topic
        self._batch_size = batch_size
        self._linger = linger_seconds
        self._backoff = backoff
        self._kafka_thread = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-kafka")
        self._batches = BATCHES.labels(name)
        self._messages = MESSAGES.labels(name)
        self._lag = LAG.labels(name)
        # Created at 0 so that a rate or an alert over them has a series before the first
        # failure, rather than nothing.
        DEAD_LETTERS.labels(name)
        for step in ("handler", "dead_letters"):
            RETRIES.labels(name, step)
        self._committed: dict[tuple[str, int], int] = {}
        # Messages handled in committed batches, dead letters included; for progress.
        self.processed = 0

    def _on_kafka_thread(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._kafka_thread, fn, *args)

    async def run(self) -> None:
        """Consumes until cancelled; then closes the consumer (leaving the group at once). A
        batch handled but not committed when the loop stops is delivered again."""
        await self._on_kafka_thread(self._consumer.subscribe, [self._topic])
        log.info("consumer started", extra={"consumer": self._name, "topic": self._topic})
        try:
            collecting = self._on_kafka_thread(self._collect, IDLE_SECONDS)
            while True:
                batch = await collecting
                collecting = self._on_kafka_thread(self._collect, IDLE_SECONDS)
                if batch:
                    collecting = await self._process(batch, collecting)
        finally:
            # Queued behind any collection still running on the Kafka thread.
            await self._on_kafka_thread(self._consumer.close)
            self._kafka_thread.shutdown(wait=False)
            log.info("consumer stopped", extra={"consumer": self._name})

    def _collect(self, wait: float) -> list[Message]:
        """Blocks (on the Kafka thread) for the first message up to ``wait`` seconds, then
        takes what follows within the linger, up to a batch."""
        first = self._consumer.poll(wait)
        if first is None or not self._usable(first):
            return []
        rest = self._consumer.consume(self._batch_size - 1, timeout=self._linger) \
            if self._batch_size > 1 else []
        return [first, *(m for m in rest if self._usable(m))]

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("kafka consumer error", extra={"consumer": self._name,
                                                       "error": str(error)})
        return False

    async def _process(self, batch: list[Message],
                       collecting: asyncio.Future[list[Message]]) -> asyncio.Future[list[Message]]:
        """Handles ``batch`` until it succeeds, dead-letters and commits. Returns the collection
        to continue with: ``collecting`` itself, or a new one if a retry made this batch
        absorb it."""
        paused: list[TopicPartition] | None = None
        self._backoff.reset()
        while True:
            try:
                dead = await self._handler.handle(batch)
                break
            except Retry as exc:
                RETRIES.labels(self._name, "handler").inc()
                delay = self._backoff.next_delay()
                if paused is None:
                    # The batch being collected joins this one: the offsets committed after
                    # the retry then cover only handled messages, in order.
                    batch = [*batch, *await collecting]
                    paused = await self._on_kafka_thread(self._pause)
                log.warning("batch not handled; retrying the same batch",
                            extra={"consumer": self._name, "error": str(exc)[:500],
                                   "messages": len(batch), "retry_in_seconds": round(delay, 3)})
                await asyncio.sleep(delay)
                # Keeps the group membership alive; only partitions assigned meanwhile can
                # deliver, and their messages join this batch too.
                batch += await self._on_kafka_thread(self._collect, 0)
                await self._on_kafka_thread(self._measure_lag_live)
        if dead:
            await self._send_dead_letters(dead)
        if paused is not None:
            log.info("batch handled after retrying; resuming", extra={"consumer": self._name})
            await self._on_kafka_thread(self._resume, paused)
            collecting = self._on_kafka_thread(self._collect, IDLE_SECONDS)
        await self._on_kafka_thread(self._commit, batch)
        self.processed += len(batch)
        self._batches.inc()
        self._messages.inc(len(batch))
        self._handler.committed(batch)
        return collecting

    async def _send_dead_letters(self, dead: list[tuple[Message, str]]) -> None:
        """Returns once Kafka acknowledged every dead letter, retrying with back-off."""
        self._backoff.reset()
        while True:
            try:
                await asyncio.to_thread(self._dead_letters.send, dead, DLQ_TIMEOUT_SECONDS)
            except (KafkaException, BufferError) as exc:
                RETRIES.labels(self._name, "dead_letters").inc()
                delay = self._backoff.next_delay()
                log.warning("dead letters not acknowledged; retrying",
                            extra={"consumer": self._name, "error": str(exc)[:500],
                                   "messages": len(dead), "retry_in_seconds": round(delay, 3)})
                await asyncio.sleep(delay)
                continue
            DEAD_LETTERS.labels(self._name).inc(len(dead))
            return

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
            log.warning("resume failed", extra={"consumer": self._name, "error": str(exc)})

    def _commit(self, messages: list[Message]) -> None:
        positions = commit_positions(messages)
        try:
            self._consumer.commit(offsets=positions, asynchronous=False)
        except KafkaException as exc:
            # Typically a rebalance took the partition away: its new owner re-reads from the
            # last commit, which a handler makes harmless.
            log.warning("offset commit failed; the batch may be delivered again",
                        extra={"consumer": self._name, "error": str(exc)})
            return
        for position in positions:
            self._committed[(position.topic, position.partition)] = position.offset
        self._lag.set(self._lag_now())

    def _lag_now(self) -> int:
        """Messages after the committed positions of the assigned partitions, from the high
        watermarks of the last fetches (no request to the broker)."""
        behind = 0
        for partition in self._consumer.assignment():
            committed = self._committed.get((partition.topic, partition.partition))
            if committed is None:
                continue
            try:
                _, high = self._consumer.get_watermark_offsets(partition, cached=True)
            except KafkaException:
                continue
            if high >= 0:
                behind += max(high - committed, 0)
        return behind

    def _measure_lag_live(self) -> None:
        """Sets the lag from the broker while a batch is retried: a stuck consumer commits
        nothing, its paused partitions fetch nothing (so their cached watermarks stand still),
        and one that never committed has no positions of its own, so the lag after the last
        commit would hide exactly the outage it should show. Asks for the group's committed
        offsets (the start of the partition where there are none: auto.offset.reset is
        earliest) and the high watermarks; if the broker does not answer in time, the last
        value stays."""
        assignment: list[TopicPartition] = self._consumer.assignment()
        if not assignment:
            return
        behind = 0
        try:
            committed = self._consumer.committed(assignment, timeout=LAG_TIMEOUT_SECONDS)
            for position in committed:
                watermarks = self._consumer.get_watermark_offsets(
                    position, timeout=LAG_TIMEOUT_SECONDS, cached=False)
                if position.error is not None or watermarks is None:
                    return
                low, high = watermarks
                start = position.offset if position.offset >= 0 else low
                behind += max(high - start, 0)
        except KafkaException as exc:
            log.debug("lag not measured", extra={"consumer": self._name, "error": str(exc)})
            return
        self._lag.set(behind)
