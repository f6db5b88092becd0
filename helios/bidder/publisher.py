"""Publishing bids to Kafka topic ``bid_responses``: protobuf payload, keyed by
``bid_request_id``, with a ``content-type`` header, the caller's ``x-request-id`` and, when
tracing is on, the bid's ``traceparent`` (the SubmitBid span's context).

A bid is answered only once the broker acknowledged it, so a bid the exchange saw is a bid the
auction will see. When Kafka cannot take it in time the bid fails with UNAVAILABLE instead.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from confluent_kafka import KafkaException

from helios.bidder import metrics
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.platform import tracing
from helios.platform.errors import Unavailable
from helios.platform.kafka import Headers, content_type

CONTENT_TYPE = content_type(BidResponse.DESCRIPTOR.full_name)


class Sender(Protocol):
    """The seam: :class:`helios.platform.kafka.AsyncProducer` or a test's fake."""

    async def send(self, topic: str, value: bytes, *, key: bytes | None = None,
                   headers: Headers | None = None) -> Any: ...


def producer_overrides(timeout_seconds: float, linger_ms: float) -> dict[str, Any]:
    """librdkafka settings for the bid publisher on top of the platform's durable defaults.

    ``message.timeout.ms`` is the bid's own wait: librdkafka gives up on a message it could
    not deliver in that time rather than retrying for its default five minutes. Without it, a
    bid answered UNAVAILABLE (and maybe retried by the exchange under the same id) could still
    reach the auction minutes later, once Kafka is back. librdkafka notices expired messages on
    a one-second scan, so a failed bid can still land up to about a second after its caller gave
    up; the auction sees at most that late duplicate, never a much older one.

    ``linger.ms`` is the bidder's own (``HELIOS_BIDDER_KAFKA_LINGER_MS``): each bid waits it out.
    """
    return {"message.timeout.ms": max(int(timeout_seconds * 1000), 1), "linger.ms": linger_ms}


class BidPublisher:
    def __init__(self, sender: Sender, topic: str, timeout_seconds: float, *,
                 tracer: tracing.Tracing = tracing.OFF) -> None:
        self._sender = sender
        self._topic = topic
        self._timeout = timeout_seconds
        self._traced = tracer.enabled

    async def publish(self, bid: BidResponse, request_id: str = "",
                      within: float | None = None) -> None:
        """Returns once the broker acknowledged ``bid``; raises Unavailable after ``within``
        seconds (the publisher's own bound when None or longer)."""
        headers: Headers = [CONTENT_TYPE]
        if request_id:
            headers.append(("x-request-id", request_id.encode()))
        if self._traced:
            tracing.add_to_headers(headers)
        wait = self._timeout if within is None else min(within, self._timeout)
        try:
            # asyncio.timeout, not wait_for: no extra task per bid on the hot path.
            async with asyncio.timeout(wait):
                await self._sender.send(self._topic, bid.SerializeToString(),
                                        key=bid.bid_request_id.encode(), headers=headers)
        except TimeoutError:
            metrics.PUBLISH_FAILURES.inc()
            raise Unavailable(
                f"kafka: bid not acknowledged within {wait * 1000:.0f} ms") from None
        except KafkaException as exc:
            metrics.PUBLISH_FAILURES.inc()
            raise Unavailable(f"kafka: bid not published: {_reason(exc)}") from None
        except BufferError:
            # The producer's local queue is full: Kafka has been unreachable for a while.
            metrics.PUBLISH_FAILURES.inc()
            raise Unavailable("kafka: bid not published: producer queue full") from None


def _reason(exc: KafkaException) -> str:
    error: Any = exc.args[0] if exc.args else None
    return str(error.str()) if hasattr(error, "str") else str(exc)
