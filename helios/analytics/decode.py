"""Turning a Kafka ``auction_outcomes`` payload into the values of one table row.

Pure, so the rules (what is undecodable, how a loss is stored) are tested without Kafka.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from helios.analytics.models import AS_SENT, PRICE_LIMIT
from helios.auction.v1.auction_pb2 import AuctionOutcome

_MAX_PRICE = float(PRICE_LIMIT)
_TEXT_FIELDS = ("bid_request_id", "user_id", "currency", "winning_interest",
                "enrichment_reason", "site_domain", "device_type", "page_url")
_SENT_TEXT = tuple(name for name in _TEXT_FIELDS if name in AS_SENT)
_SORTED_JSON = json.JSONEncoder(sort_keys=True)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Undecodable(ValueError):
    """The payload is not a usable AuctionOutcome; the message says why."""


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    bid_request_id: str
    user_id: str
    site_domain: str
    device_type: str
    page_url: str
    bid_price: float
    # None when the bid lost: nothing was paid (see helios.analytics.models).
    win_price: float | None
    currency: str
    enriched: bool
    enrichment_reason: str
    # JSON text, cast to jsonb by the INSERT: the interest names strongest first (an array),
    # and the interest -> score map (an object).
    user_interests: str
    interest_scores: str
    winning_interest: str
    interest_score: float
    win_status: bool
    bid_timestamp: datetime | None
    auction_timestamp: datetime


def decode(payload: bytes | None, fallback_time: datetime) -> OutcomeRow:
    """Decodes one message. ``fallback_time`` (the Kafka message time) stands in for a missing
    auction timestamp, so a row always has a place on the time axis.

    On the ingest's hot path (tens of µs a message): each field is read once."""
    if not payload:
        raise Undecodable("empty payload")
    outcome = AuctionOutcome()
    try:
        outcome.ParseFromString(payload)
    except DecodeError as exc:
        raise Undecodable(f"not an AuctionOutcome: {exc}") from None
    sent = {name: getattr(outcome, name) for name in AS_SENT}
    if not sent["bid_request_id"]:
        raise Undecodable("bid_request_id is empty")
    currency = outcome.currency or "USD"
    if len(currency) != 3:
        raise Undecodable(f"currency must be a 3-letter code, got {currency!r}")
    bid_price, win_price = outcome.bid_price, outcome.win_price
    for name, price in (("bid_price", bid_price), ("win_price", win_price)):
        if not 0 <= price <= _MAX_PRICE:  # also False for NaN
            raise Undecodable(f"{name} must be between 0 and {PRICE_LIMIT}, got {price}")
    if "\x00" in "".join([currency, *(sent[name] for name in _SENT_TEXT)]):
        name = next(n for n in _TEXT_FIELDS if "\x00" in getattr(outcome, n))
        raise Undecodable(f"{name} contains a NUL character, which PostgreSQL text rejects")
    auction_time = (_utc(outcome.auction_timestamp)
                    if outcome.HasField("auction_timestamp") else fallback_time)
    return OutcomeRow(
        **sent,
        bid_price=bid_price,
        win_price=win_price if sent["win_status"] else None,
        currency=currency.upper(),
        user_interests=json.dumps(list(outcome.user_interests)),
        interest_scores=_SORTED_JSON.encode(dict(outcome.interest_scores)),
        bid_timestamp=_utc(outcome.timestamp) if outcome.HasField("timestamp") else None,
        auction_timestamp=auction_time,
    )


def _utc(stamp: Timestamp) -> datetime:
    """``stamp.ToDatetime(UTC)`` (nanoseconds cut to microseconds, toward zero) at a fifth of
    its cost."""
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
