"""Stored rows to the API's own Outcome message."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from helios.analytics.convert import outcome_message, winners_response
from helios.analytics.models import AS_SENT, AuctionOutcome
from helios.analytics.queries import OutcomePage
from helios.analytics.v1 import analytics_pb2 as pb
from helios.auction.v1.auction_pb2 import AuctionOutcome as KafkaOutcome

# The outcome fields the API documents (docs/analytics.md), and no others: a field added to the
# Kafka event must not reach the public API by itself.
DOCUMENTED = {
    "bid_request_id", "user_id", "bid_price", "currency", "timestamp", "enriched",
    "user_interests", "interest_scores", "winning_interest", "interest_score",
    "enrichment_reason", "site_domain", "device_type", "page_url", "win_status", "win_price",
    "auction_timestamp",
}
BID_TIME = datetime(2026, 5, 1, 9, 59, 59, 250_000, tzinfo=UTC)
AUCTION_TIME = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def row(**overrides: object) -> AuctionOutcome:
    values: dict[str, object] = {
        "id": 1, "bid_request_id": "req-1", "user_id": "user-001", "site_domain": "news.example",
        "device_type": "mobile", "page_url": "https://news.example/a",
        "bid_price": Decimal("0.8500"), "win_price": Decimal("0.8500"), "currency": "USD",
        "enriched": True, "enrichment_reason": "", "user_interests": ["technology", "sports"],
        "interest_scores": {"technology": 0.95, "sports": 0.7},
        "winning_interest": "technology", "interest_score": 0.95, "win_status": True,
        "bid_timestamp": BID_TIME, "auction_timestamp": AUCTION_TIME,
        "ingested_at": AUCTION_TIME, **overrides}
    return AuctionOutcome(**values)


def test_the_api_outcome_is_its_own_message_with_the_documented_fields() -> None:
    assert set(pb.Outcome.DESCRIPTOR.fields_by_name) == DOCUMENTED
    service = pb.DESCRIPTOR.services_by_name["AnalyticsService"]
    assert service.methods_by_name["GetOutcome"].output_type is pb.Outcome.DESCRIPTOR
    for response in (pb.ListOutcomesResponse, pb.ListWinnersResponse):
        assert response.DESCRIPTOR.fields_by_name["results"].message_type is pb.Outcome.DESCRIPTOR
    assert pb.Outcome.DESCRIPTOR is not KafkaOutcome.DESCRIPTOR


def test_every_field_comes_from_the_row() -> None:
    message = outcome_message(row())
    assert (message.bid_request_id, message.user_id, message.currency) == (
        "req-1", "user-001", "USD")
    assert (message.bid_price, message.win_price, message.win_status) == (0.85, 0.85, True)
    assert (message.enriched, message.enrichment_reason) == (True, "")
    assert list(message.user_interests) == ["technology", "sports"]
    assert dict(message.interest_scores) == {"technology": 0.95, "sports": 0.7}
    assert (message.winning_interest, message.interest_score) == ("technology", 0.95)
    assert (message.site_domain, message.device_type, message.page_url) == (
        "news.example", "mobile", "https://news.example/a")
    assert message.timestamp.ToDatetime(UTC) == BID_TIME
    assert message.auction_timestamp.ToDatetime(UTC) == AUCTION_TIME
    assert {field.name for field, _ in message.ListFields()} == DOCUMENTED - {"enrichment_reason"}


def test_a_loss_shows_a_price_of_0_and_a_missing_bid_time_is_left_out() -> None:
    message = outcome_message(row(win_status=False, win_price=None, bid_timestamp=None,
                                  enriched=False, enrichment_reason="no_profile",
                                  user_interests=[], interest_scores={}, winning_interest="",
                                  interest_score=0.0))
    assert (message.win_status, message.win_price) == (False, 0.0)
    assert not message.HasField("timestamp")
    assert (list(message.user_interests), dict(message.interest_scores)) == ([], {})


def test_a_page_of_winners_holds_api_outcomes() -> None:
    reply = winners_response(OutcomePage(count=3, page=2, page_size=2, rows=[row()]))
    assert (reply.count, reply.page, reply.page_size, reply.total_pages) == (3, 2, 2, 2)
    assert [r.bid_request_id for r in reply.results] == ["req-1"]


def test_the_fields_copied_as_sent_have_one_type_in_the_event_the_table_and_the_api() -> None:
    kafka, api = KafkaOutcome.DESCRIPTOR.fields_by_name, pb.Outcome.DESCRIPTOR.fields_by_name
    columns = AuctionOutcome.__table__.columns
    for name in AS_SENT:
        assert kafka[name].type == api[name].type, name
        assert columns[name].type.python_type is type(getattr(KafkaOutcome(), name)), name
