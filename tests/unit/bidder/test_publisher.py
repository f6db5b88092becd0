"""What the publisher hands to Kafka, and how its failures surface (fake sender; the real
producer is exercised by the integration tests)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from helios.bidder.publisher import BidPublisher, producer_overrides
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.platform.errors import Unavailable
from helios.platform.kafka import Headers


class FakeSender:
    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, Headers | None]] = []
        self.delay = delay
        self.error = error

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers | None = None) -> Any:
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        self.sent.append((topic, value, key, headers))


BID = BidResponse(bid_request_id="req-1", user_id="user-001", bid_price=1.2, currency="USD")
CONTENT_TYPE = ("content-type", b"application/x-protobuf; messageType=helios.bidder.v1.BidResponse")


async def test_the_bid_goes_out_as_protobuf_keyed_with_headers() -> None:
    sender = FakeSender()
    await BidPublisher(sender, "p-bid_responses", 1.0).publish(BID, "rid-7")
    assert sender.sent == [("p-bid_responses", BID.SerializeToString(), b"req-1",
                            [CONTENT_TYPE, ("x-request-id", b"rid-7")])]


async def test_no_request_id_header_without_one() -> None:
    sender = FakeSender()
    await BidPublisher(sender, "t", 1.0).publish(BID)
    assert sender.sent[0][3] == [CONTENT_TYPE]


async def test_no_acknowledgement_in_time_is_unavailable() -> None:
    started = time.perf_counter()
    with pytest.raises(Unavailable, match=r"^kafka: bid not acknowledged within 50 ms$"):
        await BidPublisher(FakeSender(delay=5.0), "t", 0.05).publish(BID)
    assert time.perf_counter() - started < 0.5


async def test_the_callers_shorter_deadline_bounds_the_wait() -> None:
    with pytest.raises(Unavailable, match="within 20 ms"):
        await BidPublisher(FakeSender(delay=5.0), "t", 1.0).publish(BID, within=0.02)


async def test_a_delivery_error_is_unavailable_with_the_reason() -> None:
    error = KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "Local: Message timed out"))
    with pytest.raises(Unavailable, match=r"^kafka: bid not published: Local: Message timed out$"):
        await BidPublisher(FakeSender(error=error), "t", 1.0).publish(BID)


def test_librdkafka_gives_up_when_the_bid_does_and_lingers_as_configured() -> None:
    assert producer_overrides(1.0, 2.5) == {"message.timeout.ms": 1000, "linger.ms": 2.5}
