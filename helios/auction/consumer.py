"""The auction hop: the handler the platform's consumer loop (:mod:`helios.platform.consumer`)
runs on ``bid_responses``, producing one AuctionOutcome per bid to ``auction_outcomes``.

A batch is decided, its outcomes produced, and the handler returns only once the broker has
acknowledged every one of them; if any delivery fails it raises
:class:`~helios.platform.consumer.Retry`, so nothing is committed and the loop handles the same
batch again. Each decision is a function of the ``bid_request_id``, so a bid handled twice
publishes the same decision (downstream de-duplicates on that id, the outcome's key). A bid that
cannot be auctioned is returned to the loop, which dead-letters it.

confluent-kafka is a blocking client: a batch is decided and flushed in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import cast

from confluent_kafka import KafkaError, Message, Producer
from opentelemetry.trace import Span

from helios.auction import metrics
from helios.auction.outcomes import (
    OutcomeEncoder,
    Rejected,
    check_content_type,
    outcome_headers,
    parse_bid,
)
from helios.auction.rules import Rules, to_cents
from helios.platform import tracing
from helios.platform.consumer import Retry
from helios.platform.kafka import Headers, Topics

log = logging.getLogger(__name__)


class Auction:
    """Decides batches of bids; the loop's handler."""

    def __init__(self, producer: Producer, topics: Topics, rules: Rules, *,
                 tracer: tracing.Tracing = tracing.OFF,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self._producer = producer
        self._topics = topics
        self._rules = rules
        self._tracing = tracer
        self._clock = clock

    async def handle(self, messages: list[Message]) -> list[tuple[Message, str]]:
        return await asyncio.to_thread(self.decide, messages)

    def committed(self, messages: list[Message]) -> None:
        pass

    def decide(self, messages: list[Message]) -> list[tuple[Message, str]]:
        """Produces an outcome per usable bid and waits for the acknowledgements; returns the
        unusable bids with the reason. Raises Retry when the broker did not take them all."""
        encoder = OutcomeEncoder(self._clock())
        failures: list[KafkaError] = []

        def delivered(error: KafkaError | None, _msg: Message) -> None:
            if error is not None:
                failures.append(error)

        dead: list[tuple[Message, str]] = []
        won = lost = 0
        # In whole cents: a sum of float dollars would drift.
        won_bid_cents = lost_bid_cents = paid_cents = 0
        outcomes_topic = self._topics.auction_outcomes
        for msg in messages:
            headers = cast(Headers | None, msg.headers())
            value = msg.value()
            try:
                check_content_type(headers)
                bid = parse_bid(value)
            except Rejected as exc:
                log.warning("message sent to the dead-letter topic",
                            extra={"error": str(exc), "topic": msg.topic(),
                                   "partition": msg.partition(), "offset": msg.offset()})
                dead.append((msg, str(exc)))
                continue
            assert value is not None  # parse_bid rejects an empty payload
            decision = self._rules.decide(bid.bid_request_id, bid.bid_price)
            out_headers = outcome_headers(headers)
            span = self._span(headers, bid.bid_request_id, decision.won) \
                if self._tracing.enabled else None
            if span is not None:
                tracing.add_to_headers(out_headers, tracing.in_context(span))
            self._produce(outcomes_topic, encoder.encode(value, bid, decision),
                          bid.bid_request_id.encode(), out_headers, delivered)
            if span is not None:
                span.end()
            if decision.won:
                won += 1
                won_bid_cents += to_cents(bid.bid_price)
                paid_cents += decision.price_cents
            else:
                lost += 1
                lost_bid_cents += to_cents(bid.bid_price)
        # Bounded by the producer's message.timeout.ms: an undeliverable outcome fails then.
        self._producer.flush()
        if failures:
            raise Retry(f"{len(failures)} outcome(s) not acknowledged: {failures[0].str()}")
        metrics.PRODUCED.labels("won").inc(won)
        metrics.PRODUCED.labels("lost").inc(lost)
        metrics.BID_PRICE.labels("won").inc(won_bid_cents / 100)
        metrics.BID_PRICE.labels("lost").inc(lost_bid_cents / 100)
        metrics.WIN_PRICE.inc(paid_cents / 100)
        return dead

    def _span(self, headers: Headers | None, bid_request_id: str, won: bool) -> Span:
        return self._tracing.consumer_span(
            f"{self._topics.bid_responses} process", tracing.from_headers(headers),
            attributes={"messaging.system": "kafka",
                        "messaging.destination.name": self._topics.bid_responses,
                        "helios.bid_request_id": bid_request_id, "helios.won": won})

    def _produce(self, topic: str, value: bytes, key: bytes, headers: Headers,
                 delivered: Callable[[KafkaError | None, Message], None]) -> None:
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers,
                                       on_delivery=delivered)
                return
            except BufferError:
                # The local queue is full: let librdkafka send some, then try again.
                self._producer.poll(0.1)
