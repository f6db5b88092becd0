"""`helios serve bidder` as a real process, against the real profile service (Redis, seeded
demo profiles) and the real Kafka, with the profile service really killed or frozen."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from helios.bidder.v1.bidder_pb2 import BidResponse, Site, SubmitBidRequest
from helios.local.mesh import Launcher, Service, free_port
from tests.conftest import PROFILE_DEADLINE_MS, Infra
from tests.integration.bidder.support import (
    Answer,
    failed,
    header,
    new_id,
    read,
    submit,
    value,
)

CONTENT_TYPE = b"application/x-protobuf; messageType=helios.bidder.v1.BidResponse"


def start(launcher: Launcher, **env: str) -> tuple[Service, Service]:
    profiles = launcher.start("profiles")
    bidder = launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target,
                                       "HELIOS_BIDDER_PROFILE_DEADLINE_MS": PROFILE_DEADLINE_MS,
                                       **env})
    return profiles, bidder


def bid_for(bidder: Service, user_id: str, **fields: object) -> Answer:
    request = SubmitBidRequest(request_id=new_id("bid"), user_id=user_id,
                               **fields)  # type: ignore[arg-type]
    return submit(bidder.target, request)


def test_an_enriched_bid_is_answered_and_in_kafka(infra: Infra, launcher: Launcher) -> None:
    _, bidder = start(launcher)
    request_id = new_id("enriched")
    request = SubmitBidRequest(request_id=request_id, user_id="user-001",
                               timestamp="2024-05-01T12:00:00Z", device_type="mobile",
                               site=Site(domain="news.example", page="https://news.example/a"))

    bid = submit(bidder.target, request, request_id="rid-enriched").bid

    assert (bid.bid_request_id, bid.user_id, bid.bid_price, bid.currency) == (
        request_id, "user-001", 1.20, "USD")
    assert bid.enriched and bid.enrichment_reason == ""
    assert list(bid.user_interests) == ["technology", "sports"]
    assert dict(bid.interest_scores) == {"technology": 0.95, "sports": 0.70}
    assert (bid.winning_interest, bid.interest_score) == ("technology", 0.95)
    assert bid.timestamp.ToJsonString() == "2024-05-01T12:00:00Z"
    assert (bid.site_domain, bid.page_url, bid.device_type) == (
        "news.example", "https://news.example/a", "mobile")

    msg = read(infra.kafka_bootstrap, infra.topics.bid_responses, [request_id])[request_id]
    assert msg.key() == request_id.encode()
    assert header(msg, "content-type") == CONTENT_TYPE
    assert header(msg, "x-request-id") == b"rid-enriched"
    assert BidResponse.FromString(value(msg)) == bid


def test_an_unknown_user_bids_the_base_price_and_says_why(infra: Infra,
                                                          launcher: Launcher) -> None:
    _, bidder = start(launcher)
    answer = bid_for(bidder, new_id("nobody"))
    bid = answer.bid
    assert (bid.bid_price, bid.enriched, bid.enrichment_reason) == (0.35, False, "no_profile")
    assert not bid.user_interests and not bid.interest_scores
    msg = read(infra.kafka_bootstrap, infra.topics.bid_responses, [bid.bid_request_id])
    assert BidResponse.FromString(value(msg[bid.bid_request_id])) == bid
    assert header(msg[bid.bid_request_id], "x-request-id") is None


def test_concurrent_bids_each_get_their_own_users_price(infra: Infra,
                                                        launcher: Launcher) -> None:
    _, bidder = start(launcher)
    users = ["user-001", new_id("nobody")] * 40
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda user: bid_for(bidder, user).bid, users))
    for user, bid in zip(users, answers, strict=True):
        assert bid.user_id == user
        assert bid.bid_price == (1.20 if user == "user-001" else 0.35)
        assert bid.enriched is (user == "user-001")
    published = read(infra.kafka_bootstrap, infra.topics.bid_responses,
                     [b.bid_request_id for b in answers])
    assert {k: BidResponse.FromString(value(m)) for k, m in published.items()} == {
        b.bid_request_id: b for b in answers}


def test_a_killed_profile_service_degrades_quickly(infra: Infra, launcher: Launcher) -> None:
    # The lookup path alone: test_near_cache.py shows the cache emptied when the service dies.
    profiles, bidder = start(launcher, HELIOS_BIDDER_CACHE_ENTRIES="0")
    assert bid_for(bidder, "user-001").bid.enriched
    profiles.kill()

    for _ in range(3):
        answer = bid_for(bidder, "user-001")
        bid = answer.bid
        assert (bid.bid_price, bid.enriched, bid.enrichment_reason) == (
            0.35, False, "profile_service_unavailable")
        # Refused connections fail at once: nowhere near the 50 ms lookup deadline plus
        # Kafka's acknowledgement.
        assert answer.seconds < 0.5, answer.seconds
    read(infra.kafka_bootstrap, infra.topics.bid_responses, [bid.bid_request_id])


def test_a_frozen_profile_service_times_out_then_the_breaker_opens_and_recovers(
        launcher: Launcher) -> None:
    # The lookup path alone: a frozen service still holds its stream open (until keepalive
    # notices), so with the near cache on user-001 would be answered from it.
    profiles, bidder = start(launcher, HELIOS_BIDDER_CACHE_ENTRIES="0",
                             HELIOS_BIDDER_BREAKER_FAILURES="3",
                             HELIOS_BIDDER_BREAKER_RESET_MS="1500",
                             HELIOS_BIDDER_PROFILE_DEADLINE_MS="300")
    assert bid_for(bidder, "user-001").bid.enriched
    profiles.pause()
    try:
        for _ in range(3):
            answer = bid_for(bidder, "user-001")
            assert (answer.bid.bid_price, answer.bid.enriched,
                    answer.bid.enrichment_reason) == (0.35, False, "profile_service_timeout")
            # The whole lookup deadline was spent, and not much more.
            assert 0.29 < answer.seconds < 1.0, answer.seconds

        # Three timeouts opened the circuit: the frozen service costs the next bids nothing.
        for _ in range(3):
            answer = bid_for(bidder, "user-001")
            assert answer.bid.enrichment_reason == "profile_service_unavailable"
            assert answer.seconds < 0.25, answer.seconds

        # A request's tmax shortens the lookup below the configured deadline.
        time.sleep(1.6)
        answer = bid_for(bidder, "user-001", tmax=40)
        assert answer.bid.enrichment_reason == "profile_service_timeout"
        assert answer.seconds < 0.25, answer.seconds
    finally:
        profiles.resume()

    # After the reset period a trial call goes through, succeeds and closes the circuit.
    time.sleep(1.6)
    assert bid_for(bidder, "user-001").bid.enriched
    assert all(bid_for(bidder, "user-001").bid.enriched for _ in range(5))


def test_kafka_down_fails_the_bid_unavailable_within_the_deadline(
        launcher: Launcher) -> None:
    nothing_there = f"127.0.0.1:{free_port()}"
    _, bidder = start(launcher, HELIOS_KAFKA_BOOTSTRAP_SERVERS=nothing_there,
                      HELIOS_BIDDER_PUBLISH_TIMEOUT_MS="500")
    request = SubmitBidRequest(request_id=new_id("no-kafka"), user_id="user-001")

    error, seconds = failed(bidder.target, request)

    assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert (error.details() or "").startswith("kafka: bid not "), error.details()
    assert 0.45 < seconds < 1.5, seconds


@pytest.mark.parametrize(("fields", "message"), [
    ({"user_id": "user-001"}, "request_id: is required"),
    ({"request_id": "r", "user_id": "   "}, "user_id: must not be blank"),
    ({"request_id": "r", "user_id": "u" * 129},
     "user_id: must be at most 128 characters, got 129"),
    ({"request_id": "r", "user_id": "u", "timestamp": "yesterday"},
     "timestamp: must be RFC 3339, got 'yesterday'"),
    ({"request_id": "r", "user_id": "u", "tmax": 0}, "tmax: must be between 1 and 1000 ms, got 0"),
])
def test_bad_requests_are_invalid_argument_with_the_message(
        launcher: Launcher, fields: dict[str, object], message: str) -> None:
    _, bidder = start(launcher)
    error, _ = failed(bidder.target, SubmitBidRequest(**fields))  # type: ignore[arg-type]
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == message
