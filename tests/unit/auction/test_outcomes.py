"""Payload validation and outcome encoding, without Kafka."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pb2 import DescriptorProto
from google.protobuf.unknown_fields import UnknownFieldSet

from helios.auction.outcomes import (
    OutcomeEncoder,
    Rejected,
    check_content_type,
    outcome_headers,
    parse_bid,
)
from helios.auction.rules import Decision
from helios.auction.v1.auction_pb2 import AuctionOutcome
from helios.bidder.v1.bidder_pb2 import BidResponse

AUCTION_TIME_NS = 1_700_000_000_123_456_789


def a_bid(**overrides: object) -> BidResponse:
    fields: dict[str, object] = {
        "bid_request_id": "req-1", "user_id": "user-001", "bid_price": 0.85,
        "currency": "USD", "enriched": True, "user_interests": ["sports", "tech"],
        "interest_scores": {"sports": 0.8, "tech": 0.4},
        "winning_interest": "sports", "interest_score": 0.8, "enrichment_reason": "",
        "site_domain": "example.com", "device_type": "mobile",
        "page_url": "https://example.com/a",
    }
    fields.update(overrides)
    bid = BidResponse(**fields)  # type: ignore[arg-type]
    bid.timestamp.FromNanoseconds(1_699_999_999_000_000_000)
    return bid


def wire_shape(field: Any) -> tuple[object, ...]:
    """What decides how a field is encoded; map entries are compared by their own fields
    because each message declares its own entry type."""
    shape: tuple[object, ...] = (field.number, field.name, field.type, field.is_repeated)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        assert entry is not None
        if entry.GetOptions().map_entry:
            return (*shape, tuple(wire_shape(f) for f in entry.fields))
        return (*shape, entry.full_name)
    return shape


def reserved_numbers(message: Any) -> set[int]:
    proto = DescriptorProto()
    message.DESCRIPTOR.CopyToProto(proto)
    return {n for r in proto.reserved_range for n in range(r.start, r.end)}


def test_bid_response_fields_are_the_outcome_fields_below_20() -> None:
    """The encoding shortcut relies on it; a proto change that breaks it must fail here."""
    bid_fields = BidResponse.DESCRIPTOR.fields_by_number
    outcome_fields = AuctionOutcome.DESCRIPTOR.fields_by_number
    for number, field in bid_fields.items():
        assert wire_shape(outcome_fields[number]) == wire_shape(field)
    assert max(bid_fields) < min(n for n in outcome_fields if n not in bid_fields)
    # A number retired in the bid is retired in the outcome too: reused there, it would read
    # an old bid's bytes as something else.
    assert reserved_numbers(BidResponse) == reserved_numbers(AuctionOutcome)


def test_the_outcome_is_the_bid_plus_the_decision() -> None:
    bid = a_bid()
    value = bid.SerializeToString()
    encoded = OutcomeEncoder(AUCTION_TIME_NS).encode(value, parse_bid(value), Decision(True, 85))
    outcome = AuctionOutcome.FromString(encoded)
    for field in BidResponse.DESCRIPTOR.fields:
        assert getattr(outcome, field.name) == getattr(bid, field.name), field.name
    assert outcome.win_status is True
    assert outcome.win_price == 0.85
    assert outcome.auction_timestamp.ToNanoseconds() == AUCTION_TIME_NS


def test_a_lost_outcome_has_no_price() -> None:
    value = a_bid().SerializeToString()
    encoder = OutcomeEncoder(AUCTION_TIME_NS)
    won = AuctionOutcome.FromString(encoder.encode(value, parse_bid(value), Decision(True, 60)))
    lost = AuctionOutcome.FromString(encoder.encode(value, parse_bid(value), Decision(False, 0)))
    assert (won.win_status, won.win_price) == (True, 0.60)
    assert (lost.win_status, lost.win_price) == (False, 0.0)
    assert lost.auction_timestamp.ToNanoseconds() == AUCTION_TIME_NS


def test_fields_unknown_to_this_version_do_not_leak_into_the_outcome() -> None:
    # A bid carrying field 20 (say, from a future bidder) must not set win_status by accident.
    forged = a_bid().SerializeToString() + AuctionOutcome(
        win_status=True, win_price=9.99).SerializeToString()
    bid = parse_bid(forged)
    outcome = AuctionOutcome.FromString(
        OutcomeEncoder(AUCTION_TIME_NS).encode(forged, bid, Decision(False, 0)))
    assert (outcome.win_status, outcome.win_price) == (False, 0.0)
    assert outcome.bid_request_id == "req-1"


def test_a_bid_of_the_old_shape_is_auctioned_without_its_interests() -> None:
    # Before field 14, user_interests was field 7, a map of scores. A map entry is encoded as
    # the interest_scores entry is, so swapping the tag (field 15 -> 7, both length-delimited)
    # gives the old bytes of one interest.
    entry = BidResponse(interest_scores={"sports": 0.8}).SerializeToString()
    assert entry[0] == 15 << 3 | 2
    old = a_bid(user_interests=[], interest_scores={}).SerializeToString() + bytes(
        [7 << 3 | 2]) + entry[1:]
    outcome = AuctionOutcome.FromString(
        OutcomeEncoder(AUCTION_TIME_NS).encode(old, parse_bid(old), Decision(True, 85)))
    assert (outcome.bid_request_id, outcome.winning_interest) == ("req-1", "sports")
    assert (list(outcome.user_interests), dict(outcome.interest_scores)) == ([], {})
    assert not len(UnknownFieldSet(outcome))


@pytest.mark.parametrize(("value", "reason"), [
    (None, "empty payload"),
    (b"", "empty payload"),
    (b"\xff\xff\xff not a protobuf", "cannot decode helios.bidder.v1.BidResponse"),
    (BidResponse(user_id="u", bid_price=0.5).SerializeToString(), "bid_request_id is empty"),
    (BidResponse(bid_request_id="r", bid_price=-1).SerializeToString(), "bid_price"),
    (BidResponse(bid_request_id="r", bid_price=float("nan")).SerializeToString(), "bid_price"),
    (BidResponse(bid_request_id="r", bid_price=float("inf")).SerializeToString(), "bid_price"),
])
def test_invalid_payloads_are_rejected_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        parse_bid(value)


def test_content_type_must_name_a_bid_response_when_present() -> None:
    check_content_type(None)
    check_content_type([("content-type",
                         b"application/x-protobuf; messageType=helios.bidder.v1.BidResponse")])
    with pytest.raises(Rejected, match="content-type"):
        check_content_type([("content-type", b"application/json")])


def test_outcome_headers_carry_the_request_id_and_trace_context_only() -> None:
    received: list[tuple[str, str | bytes | None]] = [
        ("content-type", b"application/x-protobuf; messageType=helios.bidder.v1.BidResponse"),
        ("x-request-id", b"rid-1"), ("traceparent", b"00-abc-def-01"), ("other", b"x")]
    assert outcome_headers(received) == [
        ("content-type", b"application/x-protobuf; messageType=helios.auction.v1.AuctionOutcome"),
        ("x-request-id", b"rid-1"), ("traceparent", b"00-abc-def-01")]
    assert outcome_headers(None) == [
        ("content-type", b"application/x-protobuf; messageType=helios.auction.v1.AuctionOutcome")]
