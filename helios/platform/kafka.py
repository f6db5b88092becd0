"""Kafka helpers shared by the services: topic names, an asyncio-friendly idempotent producer,
consumer defaults and topic creation.

Topics (payloads are protobuf, keyed by ``bid_request_id``, header ``content-type`` names the
message type as ``application/x-protobuf; messageType=<full name>``):

    bid_responses       helios.bidder.v1.BidResponse, written by the bidder
    auction_outcomes    helios.auction.v1.AuctionOutcome, written by the auction service
    bid_responses.dlq   bid_responses messages the auction cannot use, as received
    auction_outcomes.dlq
                        auction_outcomes messages analytics cannot store, as received

A dead-letter message keeps the original's key, value and headers and adds ``error`` (why it
was refused), ``original-topic``, ``original-partition`` and ``original-offset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from helios.platform.settings import TOPIC_PREFIX

log = logging.getLogger(__name__)

BID_RESPONSES = "bid_responses"
AUCTION_OUTCOMES = "auction_outcomes"
BID_RESPONSES_DLQ = "bid_responses.dlq"
AUCTION_OUTCOMES_DLQ = "auction_outcomes.dlq"
TOPIC_PARTITIONS = {BID_RESPONSES: 3, AUCTION_OUTCOMES: 3, BID_RESPONSES_DLQ: 3,
                    AUCTION_OUTCOMES_DLQ: 3}

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True)
class Topics:
    """The topic names in use: the names above behind ``HELIOS_KAFKA_TOPIC_PREFIX``, so that
    test sessions (or several deployments on one cluster) do not see each other's messages."""

    bid_responses: str = BID_RESPONSES
    auction_outcomes: str = AUCTION_OUTCOMES
    bid_responses_dlq: str = BID_RESPONSES_DLQ
    auction_outcomes_dlq: str = AUCTION_OUTCOMES_DLQ

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Topics:
        prefix = TOPIC_PREFIX.read(env).strip()
        return cls(prefix + BID_RESPONSES, prefix + AUCTION_OUTCOMES, prefix + BID_RESPONSES_DLQ,
                   prefix + AUCTION_OUTCOMES_DLQ)

    def partitions(self) -> dict[str, int]:
        return {self.bid_responses: TOPIC_PARTITIONS[BID_RESPONSES],
                self.auction_outcomes: TOPIC_PARTITIONS[AUCTION_OUTCOMES],
                self.bid_responses_dlq: TOPIC_PARTITIONS[BID_RESPONSES_DLQ],
                self.auction_outcomes_dlq: TOPIC_PARTITIONS[AUCTION_OUTCOMES_DLQ]}


def content_type(full_name: str) -> tuple[str, str | bytes | None]:
    return ("content-type", f"application/x-protobuf; messageType={full_name}".encode())


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """Durable defaults: idempotent, acks from all in-sync replicas. A sub-millisecond linger
    keeps the bid path's wait for the acknowledgement short while still batching under load;
    no compression, since ~200-byte messages gain little and both ends would pay the CPU."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 0.5,
        "compression.type": "none",
        "socket.nagle.disable": True,
    }
    config.update(overrides)
    return config


def consumer_config(bootstrap: str, group_id: str, **overrides: Any) -> dict[str, Any]:
    """At-least-once defaults: nothing is committed until the service says it is done.

    A member that dies without leaving (SIGKILL, a lost node) keeps its partitions until its
    session times out, and its replacement waits that long to join: 10 s here instead of
    librdkafka's 45, so a crashed auction or analytics process stalls its partitions for about
    10 s. Heartbeats go out every 3 s from librdkafka's own thread, whatever the service does.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 3_000,
    }
    config.update(overrides)
    return config


class AsyncProducer:
    """A confluent-kafka producer whose :meth:`send` returns once the broker acknowledged the
    message. A daemon thread serves delivery reports and hands them to the event loop."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._producer = Producer(dict(config))
        self._running = True
        self._thread = threading.Thread(target=self._poll, name="kafka-producer-poll",
                                        daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._running:
            self._producer.poll(0.05)

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers | None = None) -> Message:
        """Produces one message and waits for its acknowledgement; raises KafkaException."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            loop.call_soon_threadsafe(_settle, future, err, msg)

        try:
            self._producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
        except BufferError:
            self._producer.poll(0)
            self._producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
        return await future

    async def close(self, flush_seconds: float = 10.0) -> None:
        """Delivers what is queued (up to ``flush_seconds``), then stops the poll thread."""
        remaining = await asyncio.to_thread(self._producer.flush, flush_seconds)
        if remaining:
            log.error("kafka producer closed with undelivered messages",
                      extra={"undelivered": remaining})
        self._running = False
        await asyncio.to_thread(self._thread.join, 1.0)


def _settle(future: asyncio.Future[Message], err: KafkaError | None, msg: Message) -> None:
    if future.done():
        return
    if err is not None:
        future.set_exception(KafkaException(err))
    else:
        future.set_result(msg)


def dead_letter_headers(msg: Message, reason: str) -> Headers:
    """``msg``'s own headers, then why it was refused and where it came from."""
    return [*(cast(Headers | None, msg.headers()) or ()),
            ("error", reason.encode()),
            ("original-topic", (msg.topic() or "").encode()),
            ("original-partition", str(msg.partition()).encode()),
            ("original-offset", str(msg.offset()).encode())]


class DeadLetters:
    """A dead-letter topic written synchronously: :meth:`send` returns once the broker
    acknowledged every message, so a consumer commits past them only when they are kept.
    A failed send may have delivered some of them; sending again can duplicate those (a
    dead-letter topic is at least once)."""

    def __init__(self, producer: Producer, topic: str) -> None:
        self._producer = producer
        self.topic = topic

    def send(self, dead: Iterable[tuple[Message, str]], timeout: float) -> None:
        """Produces each (message, reason); raises KafkaException unless all are acknowledged
        within ``timeout`` seconds."""
        failures: list[KafkaError] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                failures.append(err)

        for msg, reason in dead:
            self._producer.produce(self.topic, msg.value(), msg.key(),
                                   headers=dead_letter_headers(msg, reason),
                                   on_delivery=delivered)
        if self._producer.flush(timeout):
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT,
                                            f"{self.topic}: not acknowledged within {timeout}s"))
        if failures:
            raise KafkaException(failures[0])


def ensure_topics(bootstrap: str, partitions: Mapping[str, int] = TOPIC_PARTITIONS,
                  timeout: float = 30.0) -> list[str]:
    """Creates the topics that do not exist yet; returns the names it created."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(name, num_partitions=count, replication_factor=1)
              for name, count in partitions.items() if name not in existing]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def delete_topics(bootstrap: str, names: Iterable[str], timeout: float = 30.0) -> None:
    """Removes the topics, best effort (a scratch run's leftover harms nothing)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics(list(names), operation_timeout=timeout).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout)
