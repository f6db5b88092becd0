"""The bid's assembly from lookup, price and request, with fake profiles and publisher."""

from __future__ import annotations

import pytest

from helios.bidder.bidding import Bidder
from helios.bidder.profiles_client import NOT_FOUND, TIMED_OUT, UNAVAILABLE, Lookup
from helios.bidder.v1.bidder_pb2 import BidResponse, Device, Site, SubmitBidRequest
from helios.platform.errors import InvalidArgument, Unavailable

NOW = 1_700_000_000_000_000_000


class FakeProfiles:
    def __init__(self, answer: Lookup) -> None:
        self.answer = answer
        self.asked: list[tuple[str, float]] = []

    async def lookup(self, user_id: str, budget: float) -> Lookup:
        self.asked.append((user_id, budget))
        return self.answer


class FakePublisher:
    def __init__(self, error: Exception | None = None) -> None:
        self.published: list[tuple[bytes, str, float | None]] = []
        self.error = error

    async def publish(self, bid: BidResponse, request_id: str = "",
                      within: float | None = None) -> None:
        if self.error is not None:
            raise self.error
        self.published.append((bid.SerializeToString(), request_id, within))


def bidder(answer: Lookup, publisher: FakePublisher | None = None) -> tuple[
        Bidder, FakeProfiles, FakePublisher]:
    profiles, sink = FakeProfiles(answer), publisher or FakePublisher()
    return (Bidder(profiles, sink, profile_deadline=0.05, margin=0.005, clock_ns=lambda: NOW),
            profiles, sink)


async def test_an_enriched_bid_carries_everything_and_is_published_as_answered() -> None:
    bids, profiles, sink = bidder(Lookup({"technology": 0.95, "sports": 0.70}))
    request = SubmitBidRequest(request_id="req-1", user_id="user-001",
                               timestamp="2024-01-01T00:00:00Z",
                               site=Site(domain="news.example", page="https://news.example/a"),
                               device=Device(type="mobile"))

    bid = await bids.submit(request, request_id="rid-1", remaining=2.0)

    assert (bid.bid_request_id, bid.user_id, bid.bid_price, bid.currency) == (
        "req-1", "user-001", 1.20, "USD")
    assert bid.enriched and bid.enrichment_reason == ""
    assert list(bid.user_interests) == ["technology", "sports"]
    assert dict(bid.interest_scores) == {"technology": 0.95, "sports": 0.70}
    assert (bid.winning_interest, bid.interest_score) == ("technology", 0.95)
    assert bid.timestamp.ToJsonString() == "2024-01-01T00:00:00Z"
    assert (bid.site_domain, bid.page_url, bid.device_type) == (
        "news.example", "https://news.example/a", "mobile")
    assert sink.published == [(bid.SerializeToString(), "rid-1", 2.0)]
    assert profiles.asked == [("user-001", 0.05)]


@pytest.mark.parametrize("lookup", [NOT_FOUND, UNAVAILABLE, TIMED_OUT])
async def test_an_unenriched_bid_says_why(lookup: Lookup) -> None:
    bids, _, sink = bidder(lookup)
    bid = await bids.submit(SubmitBidRequest(request_id="r", user_id="u"))
    assert (bid.bid_price, bid.enriched, bid.enrichment_reason) == (0.35, False, lookup.reason)
    assert not bid.user_interests and not bid.interest_scores and bid.winning_interest == ""
    assert bid.timestamp.ToNanoseconds() == NOW
    assert len(sink.published) == 1


async def test_tmax_shortens_the_lookup() -> None:
    bids, profiles, _ = bidder(NOT_FOUND)
    await bids.submit(SubmitBidRequest(request_id="r", user_id="u", tmax=20))
    assert profiles.asked[0][1] == pytest.approx(0.015)


async def test_a_bad_request_asks_nobody() -> None:
    bids, profiles, sink = bidder(NOT_FOUND)
    with pytest.raises(InvalidArgument, match=r"^user_id: is required$"):
        await bids.submit(SubmitBidRequest(request_id="r"))
    assert profiles.asked == [] and sink.published == []


async def test_a_bid_kafka_did_not_take_is_not_answered() -> None:
    bids, _, _ = bidder(NOT_FOUND, FakePublisher(Unavailable("kafka: down")))
    with pytest.raises(Unavailable, match="kafka: down"):
        await bids.submit(SubmitBidRequest(request_id="r", user_id="u"))
