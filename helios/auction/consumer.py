"""The auction hop: a consumer-group loop from ``bid_responses`` to ``auction_outcomes``.

At least once, never lost: a batch's offsets are committed only after the broker acknowledged
every outcome (and every dead-letter copy) produced for it. If any delivery fails, the consumer
seeks back to the start of the batch and takes it again; since each decision is a function of
the ``bid_request_id``, a re-processed bid publishes the same outcome (downstream de-duplicates
on that id, the outcome's key).

confluent-kafka is a blocking client, so the loop runs in a thread of its own
(:meth:`AuctionLoop.run_async` bridges it to the service's event loop). The consumer is used
from that thread only, as librdkafka expects.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from opentelemetry.trace import Span

from helios.auction import metrics
from helios.auction.outcomes import (
    Headers,
    OutcomeEncoder,
    Rejected,
    check_content_type,
    outcome_headers,
    parse_bid,
)
from helios.auction.rules import Rules
from helios.platform import tracing
from helios.platform.kafka import Topics, dead_letter_headers

log = logging.getLogger(__name__)

Offsets = dict[tuple[str, int], int]


class AuctionLoop:
    """Consumes bids in batches, decides them, produces outcomes, commits after the acks."""

    def __init__(self, consumer: Consumer, producer: Producer, topics: Topics, rules: Rules, *,
                 batch_size: int = 2000, poll_seconds: float = 0.5,
                 shutdown_seconds: float = 10.0, retry_seconds: float = 1.0,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self._consumer = consumer
        self._producer = producer
        self._topics = topics
        self._rules = rules
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._shutdown_seconds = shutdown_seconds
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._failures: list[KafkaError] = []
        self._traced = tracing.enabled()
        self._committed: Offsets = {}
        # Messages handled in committed batches (outcomes and dead letters); for progress.
        self.processed = 0

    async def run_async(self) -> None:
        """:meth:`run` in a worker thread; cancelling this coroutine stops the loop cleanly
        (the current batch is finished and committed, then the consumer is closed)."""
        stop = threading.Event()
        done = asyncio.get_running_loop().run_in_executor(None, self.run, stop)
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            stop.set()
            await done
            raise

    def run(self, stop: threading.Event) -> None:
        """Blocks until ``stop`` is set; raises on a fatal Kafka error."""
        self._consumer.subscribe([self._topics.bid_responses])
        log.info("auction consumer started", extra={"topic": self._topics.bid_responses})
        try:
            while not stop.is_set():
                messages = self._consumer.consume(self._batch_size, self._poll_seconds)
                if messages and not self.process(messages, stop):
                    stop.wait(self._retry_seconds)
        finally:
            self._close()

    def process(self, messages: list[Message], stop: threading.Event | None = None) -> bool:
        """Handles one batch; returns whether it was acknowledged and committed. When it was
        not, the consumer has been rewound to the batch's first offsets."""
        encoder = OutcomeEncoder(self._clock())
        first: Offsets = {}
        following: Offsets = {}
        won = lost = dead = 0
        self._failures.clear()
        outcomes_topic = self._topics.auction_outcomes
        decide = self._rules.decide
        for msg in messages:
            error = msg.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                log.warning("consume error", extra={"error": error.str()})
                continue
            # Never None on a message without an error; the `or` only satisfies the types.
            place = (msg.topic() or "", msg.partition() or 0)
            offset = msg.offset() or 0
            first.setdefault(place, offset)
            following[place] = offset + 1
            headers = cast(Headers | None, msg.headers())
            value = msg.value()
            try:
                check_content_type(headers)
                bid = parse_bid(value)
                decision = decide(bid.bid_request_id, bid.bid_price)
            except Rejected as exc:
                self._dead_letter(msg, str(exc))
                dead += 1
                continue
            assert value is not None  # parse_bid rejects an empty payload
            out_headers = outcome_headers(headers)
            span = self._span(headers, bid.bid_request_id, decision.won) if self._traced else None
            if span is not None:
                tracing.add_to_headers(out_headers, tracing.in_context(span))
            self._produce(outcomes_topic, encoder.encode(value, bid, decision),
                          bid.bid_request_id.encode(), out_headers)
            if span is not None:
                span.end()
            if decision.won:
                won += 1
            else:
                lost += 1

        if not self._acknowledged(stop):
            metrics.DELIVERY_FAILURES.inc()
            log.error("outcomes not acknowledged; the batch will be consumed again",
                      extra={"errors": [e.str() for e in self._failures[:5]],
                             "messages": len(messages)})
            self._rewind(first)
            return False
        if following:
            # Asynchronous: losing a commit only means re-processing, which is safe.
            self._consumer.commit(offsets=_partitions(following), asynchronous=True)
            self._committed.update(following)
        self.processed += won + lost + dead
        metrics.CONSUMED.inc(won + lost + dead)
        metrics.PRODUCED.labels("won").inc(won)
        metrics.PRODUCED.labels("lost").inc(lost)
        metrics.DLQ.inc(dead)
        return True

    def _span(self, headers: Headers | None, bid_request_id: str, won: bool) -> Span:
        return tracing.consumer_span(
            f"{self._topics.bid_responses} process", tracing.from_headers(headers),
            attributes={"messaging.system": "kafka",
                        "messaging.destination.name": self._topics.bid_responses,
                        "helios.bid_request_id": bid_request_id, "helios.won": won})

    def _rewind(self, first: Offsets) -> None:
        for (topic, partition), offset in first.items():
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                # The partition was revoked during the wait (a long broker outage outlasts
                # max.poll.interval.ms); its next owner starts from the last commit, which is
                # just as safe.
                log.warning("cannot rewind a partition", extra={
                    "topic": topic, "partition": partition, "error": str(exc)})

    def _dead_letter(self, msg: Message, reason: str) -> None:
        """The message as received, with why it was refused and where it came from."""
        headers = dead_letter_headers(msg, reason)
        log.warning("message sent to the dead-letter topic",
                    extra={"error": reason, "topic": msg.topic(),
                           "partition": msg.partition(), "offset": msg.offset()})
        self._produce(self._topics.bid_responses_dlq, msg.value(), msg.key(), headers)

    def _produce(self, topic: str, value: bytes | None, key: bytes | str | None,
                 headers: Headers) -> None:
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers,
                                       on_delivery=self._delivered)
                return
            except BufferError:
                # The local queue is full: let librdkafka send some, then try again.
                self._producer.poll(0.1)

    def _delivered(self, error: KafkaError | None, _msg: Message) -> None:
        if error is not None:
            self._failures.append(error)

    def _acknowledged(self, stop: threading.Event | None) -> bool:
        """Waits for every queued message's delivery report. While the broker is away this
        waits indefinitely, unless a stop was requested and ``shutdown_seconds`` passed."""
        stopping_since: float | None = None
        while self._producer.flush(1.0):
            if stop is not None and stop.is_set():
                stopping_since = stopping_since or time.monotonic()
                if time.monotonic() - stopping_since > self._shutdown_seconds:
                    return False
        return not self._failures

    def _close(self) -> None:
        try:
            if self._committed:
                # The batches' commits were asynchronous; make sure the last ones landed.
                self._consumer.commit(offsets=_partitions(self._committed), asynchronous=False)
        except KafkaException as exc:
            log.warning("final commit failed; the last batch may be consumed again",
                        extra={"error": str(exc)})
        finally:
            self._consumer.close()
            log.info("auction consumer stopped")


def _partitions(offsets: Offsets) -> list[TopicPartition]:
    return [TopicPartition(topic, partition, offset)
            for (topic, partition), offset in offsets.items()]
