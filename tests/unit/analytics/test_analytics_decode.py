import json
from datetime import UTC, datetime

import pytest

from helios.analytics.decode import Undecodable, decode
from helios.auction.v1.auction_pb2 import AuctionOutcome

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def outcome(**fields: object) -> AuctionOutcome:
    values: dict[str, object] = {
        "bid_request_id": "req-1", "user_id": "user-001", "bid_price": 0.85, "currency": "USD",
        "enriched": True, "site_domain": "news.example", "user_interests": ["sports", "tech"],
        "interest_scores": {"sports": 0.8, "tech": 0.3}, "win_status": True, "win_price": 0.85,
        **fields}
    message = AuctionOutcome(**values)  # type: ignore[arg-type]
    message.auction_timestamp.FromDatetime(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    message.timestamp.FromDatetime(datetime(2026, 5, 1, 9, 59, 59, tzinfo=UTC))
    return message


def test_a_win_keeps_its_price_and_times() -> None:
    row = decode(outcome().SerializeToString(), NOW)
    assert row.bid_request_id == "req-1"
    assert row.win_status is True and row.win_price == 0.85
    assert row.auction_timestamp == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert row.bid_timestamp == datetime(2026, 5, 1, 9, 59, 59, tzinfo=UTC)
    assert json.loads(row.user_interests) == ["sports", "tech"]
    assert json.loads(row.interest_scores) == {"sports": 0.8, "tech": 0.3}


def test_the_interest_names_keep_the_bidders_order() -> None:
    # The bidder lists them strongest first; decoding must not re-sort them by name.
    row = decode(outcome(user_interests=["tech", "sports"]).SerializeToString(), NOW)
    assert json.loads(row.user_interests) == ["tech", "sports"]


def test_an_outcome_of_the_old_shape_is_stored_without_its_interests() -> None:
    # Before field 14, user_interests was field 7, a map of scores. A map entry is encoded as
    # the interest_scores entry is, so swapping the tag (field 15 -> 7, both length-delimited)
    # gives the old bytes of one interest.
    entry = AuctionOutcome(interest_scores={"sports": 0.8}).SerializeToString()
    assert entry[0] == 15 << 3 | 2
    old = outcome(user_interests=[], interest_scores={}, winning_interest="sports",
                  interest_score=0.8).SerializeToString() + bytes([7 << 3 | 2]) + entry[1:]
    row = decode(old, NOW)
    assert (row.bid_request_id, row.winning_interest, row.interest_score) == (
        "req-1", "sports", 0.8)
    assert (json.loads(row.user_interests), json.loads(row.interest_scores)) == ([], {})


def test_a_loss_is_stored_without_a_win_price() -> None:
    row = decode(outcome(win_status=False, win_price=0.0).SerializeToString(), NOW)
    assert row.win_status is False and row.win_price is None


def test_missing_timestamps_fall_back() -> None:
    message = outcome()
    message.ClearField("auction_timestamp")
    message.ClearField("timestamp")
    row = decode(message.SerializeToString(), NOW)
    assert row.auction_timestamp == NOW and row.bid_timestamp is None


def test_missing_currency_defaults_to_usd() -> None:
    assert decode(outcome(currency="").SerializeToString(), NOW).currency == "USD"


@pytest.mark.parametrize(("payload", "reason"), [
    (None, "empty payload"),
    (b"", "empty payload"),
    (b"\xff\xff\xff", "not an AuctionOutcome"),
    (outcome(bid_request_id="").SerializeToString(), "bid_request_id is empty"),
    (outcome(currency="DOLLARS").SerializeToString(), "currency must be a 3-letter code"),
    (outcome(bid_price=-1.0).SerializeToString(), "bid_price must be between"),
    (outcome(win_price=1e9).SerializeToString(), "win_price must be between"),
    (outcome(bid_price=float("nan")).SerializeToString(), "bid_price must be between"),
    (outcome(user_id="a\x00b").SerializeToString(), "user_id contains a NUL"),
])
def test_undecodable(payload: bytes | None, reason: str) -> None:
    with pytest.raises(Undecodable, match=reason):
        decode(payload, NOW)
