"""wire.explain names the field whose bytes are not UTF-8, on real protobuf encodings."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError, Message

from helios.analytics.v1.analytics_pb2 import GetOutcomeRequest, ListOutcomesRequest
from helios.bidder.v1.bidder_pb2 import Site, SubmitBidRequest
from helios.platform.wire import explain
from helios.profiles.v1.profiles_pb2 import BatchGetProfilesRequest, UpsertProfileRequest


def poisoned(message: Message, marker: str = "POISON") -> bytes:
    """``message`` encoded, with each ``marker`` string replaced by as many bytes that are not
    UTF-8 (an encoded surrogate, which is what %ED%A0%80 in a URL decodes to, then padding)."""
    data = message.SerializeToString()
    assert marker.encode() in data
    return data.replace(marker.encode(), b"\xed\xa0\x80" + b"x" * (len(marker) - 3))


@pytest.mark.parametrize(("message", "path"), [
    (ListOutcomesRequest(user_id="u", ordering="POISON"), "ordering"),
    (GetOutcomeRequest(bid_request_id="POISON"), "bid_request_id"),
    (SubmitBidRequest(request_id="r", site=Site(domain="POISON")), "site.domain"),
    (BatchGetProfilesRequest(user_ids=["a", "b", "POISON"]), "user_ids[2]"),
    (UpsertProfileRequest(profile={"user_id": "u", "interests": {"POISON": 0.5}}),
     "profile.interests.key"),
])
def test_the_field_holding_invalid_utf8_is_named(message: Message, path: str) -> None:
    data = poisoned(message)
    with pytest.raises(DecodeError):
        type(message).FromString(data)
    assert explain(message.DESCRIPTOR, data) == f"{path}: must be valid UTF-8"


@pytest.mark.parametrize("data", [b"\x0a\xff", b"\xff\xff\xff", b"\x0a\x05ab"])
def test_bytes_that_are_not_a_message_get_a_general_reason(data: bytes) -> None:
    assert explain(ListOutcomesRequest.DESCRIPTOR, data) == \
        "the request is not a valid helios.analytics.v1.ListOutcomesRequest message"


def test_a_valid_message_has_no_field_to_blame() -> None:
    data = ListOutcomesRequest(user_id="ü").SerializeToString()
    assert explain(ListOutcomesRequest.DESCRIPTOR, data).startswith("the request is not")
