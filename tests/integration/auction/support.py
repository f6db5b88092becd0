"""Kafka helpers for the auction's integration tests: real topics of a test's own, real
producers and consumers, no fakes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import cast

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.platform import kafka

BID_CONTENT_TYPE = kafka.content_type(BidResponse.DESCRIPTOR.full_name)
Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True)
class AuctionKafka:
    """One test's topics (a prefix of its own) and the environment for `helios serve auction`
    pointed at them, with a consumer group of its own."""

    bootstrap: str
    topics: kafka.Topics
    group_id: str
    env: dict[str, str] = field(default_factory=dict)


def a_bid(request_id: str, price: float = 0.85, **fields: object) -> BidResponse:
    bid = BidResponse(bid_request_id=request_id, user_id="user-001", bid_price=price,
                      currency="USD", enriched=True, user_interests=["sports"],
                      interest_scores={"sports": 0.8},
                      winning_interest="sports", interest_score=0.8,
                      site_domain="news.example", device_type="mobile",
                      page_url="https://news.example/a", **fields)  # type: ignore[arg-type]
    bid.timestamp.GetCurrentTime()
    return bid


def produce(bootstrap: str, topic: str,
            messages: list[tuple[bytes | None, bytes | None, Headers]],
            partition: int = 0) -> None:
    """(key, value, headers) in order, all to one partition so their order is the test's."""
    producer = Producer(kafka.producer_config(bootstrap))
    for key, value, headers in messages:
        producer.produce(topic, value, key, partition=partition, headers=headers)
    assert producer.flush(30) == 0, "test messages not acknowledged"


def produce_bids(bootstrap: str, topic: str, bids: list[BidResponse]) -> None:
    produce(bootstrap, topic, [
        (b.bid_request_id.encode(), b.SerializeToString(),
         [BID_CONTENT_TYPE, ("x-request-id", f"rid-{b.bid_request_id}".encode())])
        for b in bids])


def collect(bootstrap: str, topic: str, count: int, timeout: float = 45.0,
            linger: float = 0.0) -> list[Message]:
    """Reads ``topic`` from the beginning until ``count`` messages arrived (or fails), then
    for ``linger`` seconds more, so that a test can also see what should not be there."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    received: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(received) < count and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.5):
                if msg.error() is None:
                    received.append(msg)
        lingering_until = time.monotonic() + linger
        while time.monotonic() < lingering_until:
            received.extend(m for m in consumer.consume(500, 0.2) if m.error() is None)
    finally:
        consumer.close()
    assert len(received) >= count, f"{topic}: {len(received)} of {count} messages arrived"
    return received


def committed(bootstrap: str, group_id: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition (negative when none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 10)
        return {tp.partition: tp.offset for tp in found}
    finally:
        consumer.close()


def reset_group(bootstrap: str, group_id: str, topic: str, partitions: int) -> None:
    """Rewinds the (stopped) group to the start of ``topic``, as an operator would."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = ConsumerGroupTopicPartitions(
        group_id, [TopicPartition(topic, p, 0) for p in range(partitions)])
    for future in admin.alter_consumer_group_offsets([request]).values():
        future.result(30)


def outcome_of(msg: Message) -> AuctionOutcome:
    value = msg.value()
    assert isinstance(value, bytes), "an outcome message without a payload"
    return AuctionOutcome.FromString(value)


def header(msg: Message, name: str) -> bytes | None:
    for key, value in cast(Headers | None, msg.headers()) or ():
        if key == name:
            return value if isinstance(value, bytes) else None
    return None
