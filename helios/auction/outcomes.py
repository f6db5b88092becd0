"""Kafka payloads in and out: validating a BidResponse and encoding its AuctionOutcome.

The outcome is built without copying fields one by one. ``AuctionOutcome`` fields below 20
have the same numbers and types as ``BidResponse``'s, and the same numbers reserved (the auction
proto is laid out that way on purpose, and ``tests/unit/auction/test_outcomes.py`` fails if the
two drift apart), and protobuf defines concatenated encodings as the merge of the messages. So
the outcome is the received bytes followed by a small encoded ``AuctionOutcome`` holding only
the decision (fields 20-22). When the received message carries fields this version does not
know (a newer bidder's, or an older one's such as the retired field 7), they are dropped first:
their numbers could mean something else in ``AuctionOutcome``.
"""

from __future__ import annotations

import math

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp
from google.protobuf.unknown_fields import UnknownFieldSet

from helios.auction.rules import Decision
from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.bidder.v1.bidder_pb2 import BidResponse
from helios.platform.kafka import Headers, content_type

BID_RESPONSE_TYPE = BidResponse.DESCRIPTOR.full_name


def _content_type(full_name: str) -> tuple[str, bytes]:
    name, value = content_type(full_name)
    assert isinstance(value, bytes)
    return name, value


BID_RESPONSE_CONTENT_TYPE = _content_type(BID_RESPONSE_TYPE)[1]
OUTCOME_CONTENT_TYPE = _content_type(AuctionOutcome.DESCRIPTOR.full_name)
# Headers carried from the bid to its outcome: the request id and the trace context.
PROPAGATED_HEADERS = frozenset({"x-request-id", "traceparent", "tracestate"})


class Rejected(Exception):
    """The message cannot be auctioned; the text goes into the DLQ's ``error`` header."""


def parse_bid(value: bytes | None) -> BidResponse:
    """Decodes and validates one ``bid_responses`` payload; raises :class:`Rejected`."""
    if not value:
        raise Rejected("empty payload")
    try:
        bid = BidResponse.FromString(value)
    except DecodeError as exc:
        raise Rejected(f"cannot decode {BID_RESPONSE_TYPE}: {exc}") from None
    if not bid.bid_request_id:
        raise Rejected("bid_request_id is empty")
    # Negated so that NaN, which fails every comparison, is rejected too.
    if not (bid.bid_price >= 0.0 and math.isfinite(bid.bid_price)):
        raise Rejected(f"bid_price must be a finite number >= 0, got {bid.bid_price!r}")
    return bid


class OutcomeEncoder:
    """Encodes outcomes stamped with one auction time (a batch's), reusing the encoded decision
    suffix, of which a batch has only a few distinct values (a price tier won, or lost)."""

    def __init__(self, auction_time_ns: int) -> None:
        self._timestamp = Timestamp(seconds=auction_time_ns // 1_000_000_000,
                                    nanos=auction_time_ns % 1_000_000_000)
        self._suffixes: dict[int, bytes] = {}

    def encode(self, value: bytes, bid: BidResponse, decision: Decision) -> bytes:
        # A lost bid has price 0, so the price alone identifies the suffix.
        key = decision.price_cents if decision.won else -1
        suffix = self._suffixes.get(key)
        if suffix is None:
            suffix = AuctionOutcome(win_status=decision.won, win_price=decision.win_price,
                                    auction_timestamp=self._timestamp).SerializeToString()
            self._suffixes[key] = suffix
        if len(UnknownFieldSet(bid)):
            bid.DiscardUnknownFields()
            value = bid.SerializeToString()
        return value + suffix


def outcome_headers(received: Headers | None) -> Headers:
    """The outcome's headers: its content type plus the propagated ones from the bid."""
    headers: Headers = [OUTCOME_CONTENT_TYPE]
    if received:
        headers.extend(h for h in received if h[0] in PROPAGATED_HEADERS)
    return headers


def check_content_type(received: Headers | None) -> None:
    """A message whose ``content-type`` header names another type is not a bid, even if its
    bytes happen to decode; raises :class:`Rejected`. No header is accepted."""
    for name, value in received or ():
        if name == "content-type" and value != BID_RESPONSE_CONTENT_TYPE:
            raise Rejected(f"content-type {value!r} is not {BID_RESPONSE_TYPE}")
