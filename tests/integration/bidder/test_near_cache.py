"""The bidder's near cache against the real profile service, Redis and Kafka: a bid answered
from the cache (its hit counted), changes through the API and straight into Redis seen by the
next bids, and a dead profile service emptying and turning off the cache until it is back."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
import redis

from helios.bidder.v1.bidder_pb2 import SubmitBidRequest
from helios.local.mesh import Launcher, Service
from helios.profiles import layout
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub
from tests.conftest import PROFILE_DEADLINE_MS, Infra
from tests.harness import eventually
from tests.integration.bidder.support import new_id, submit
from tests.scrape import value

# How long a change may take to reach the bidder: the stream's delay, with room for a busy CI
# machine.
STREAM_DELAY = 3.0


def metric(bidder: Service, name: str, **labels: str) -> float:
    return value(f"http://127.0.0.1:{bidder.metrics_port}/metrics", name, **labels) or 0.0


def hits(bidder: Service) -> float:
    return metric(bidder, "helios_bidder_cache_lookups_total", result="hit")


def stream_up(bidder: Service) -> bool:
    return metric(bidder, "helios_bidder_cache_stream_up") == 1


def start(launcher: Launcher) -> tuple[Service, Service]:
    profiles = launcher.start("profiles")
    bidder = launcher.start("bidder", {"HELIOS_BIDDER_PROFILES_TARGET": profiles.target,
                                       "HELIOS_BIDDER_PROFILE_DEADLINE_MS": PROFILE_DEADLINE_MS},
                            metrics=True)
    eventually(lambda: stream_up(bidder), timeout=15)
    return profiles, bidder


def bid(bidder: Service, user_id: str) -> tuple[float, str]:
    answer = submit(bidder.target, SubmitBidRequest(request_id=new_id("cache"),
                                                    user_id=user_id)).bid
    return answer.bid_price, answer.enrichment_reason


@pytest.fixture
def store(infra: Infra) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(infra.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def user_id(store: redis.Redis) -> Iterator[str]:
    """A user of this test alone; its profile is removed afterwards."""
    user = new_id("near-cache")
    yield user
    store.delete(layout.key(user))


def upsert(profiles: Service, user_id: str, interests: dict[str, float]) -> None:
    with grpc.insecure_channel(profiles.target) as channel:
        ProfileServiceStub(channel).UpsertProfile(pb.UpsertProfileRequest(
            profile=pb.UserProfile(user_id=user_id, interests=interests)), timeout=5)


def test_an_upsert_through_the_api_is_seen_by_the_next_bid(launcher: Launcher,
                                                           user_id: str) -> None:
    profiles, bidder = start(launcher)
    upsert(profiles, user_id, {"technology": 0.95})
    assert bid(bidder, user_id) == (1.20, "")
    before = hits(bidder)
    assert bid(bidder, user_id) == (1.20, "")
    assert hits(bidder) == before + 1  # answered from the cache

    invalidated = metric(bidder, "helios_bidder_cache_invalidations_total")
    upsert(profiles, user_id, {"food": 0.30})
    eventually(lambda: bid(bidder, user_id) == (0.35, ""), timeout=STREAM_DELAY, interval=0.05)
    assert metric(bidder, "helios_bidder_cache_invalidations_total") > invalidated
    # And the new profile is cached in its turn.
    before = hits(bidder)
    assert bid(bidder, user_id) == (0.35, "")
    assert hits(bidder) == before + 1


def test_a_profile_written_straight_into_redis_is_seen_by_the_next_bid(
        launcher: Launcher, store: redis.Redis, user_id: str) -> None:
    _, bidder = start(launcher)
    # "No profile" is cached too.
    assert bid(bidder, user_id) == (0.35, "no_profile")
    before = hits(bidder)
    assert bid(bidder, user_id) == (0.35, "no_profile")
    assert hits(bidder) == before + 1

    store.hset(layout.key(user_id), mapping={"sports": "0.8"})  # another writer
    eventually(lambda: bid(bidder, user_id) == (0.85, ""), timeout=STREAM_DELAY, interval=0.05)
    assert bid(bidder, user_id) == (0.85, "")

    store.delete(layout.key(user_id))
    eventually(lambda: bid(bidder, user_id) == (0.35, "no_profile"), timeout=STREAM_DELAY,
               interval=0.05)


@pytest.mark.parametrize("end", ["kill", "stop"])
def test_a_dead_profile_service_empties_the_cache_until_it_is_back(launcher: Launcher,
                                                                   end: str) -> None:
    profiles, bidder = start(launcher)
    assert bid(bidder, "user-001") == (1.20, "")
    before = hits(bidder)
    assert bid(bidder, "user-001") == (1.20, "")
    assert hits(bidder) == before + 1
    assert metric(bidder, "helios_bidder_cache_entries") >= 1

    if end == "kill":
        profiles.kill()
    else:
        profiles.stop()  # SIGTERM: the service ends its streams as it starts draining
    eventually(lambda: not stream_up(bidder), timeout=STREAM_DELAY, interval=0.05)
    assert metric(bidder, "helios_bidder_cache_entries") == 0
    # Nothing is answered from the cache: the bids degrade as without one.
    for _ in range(2):
        assert bid(bidder, "user-001") == (0.35, "profile_service_unavailable")
    bypassed = metric(bidder, "helios_bidder_cache_lookups_total", result="bypass")
    assert bypassed >= 2

    profiles.restart()
    eventually(lambda: stream_up(bidder), timeout=15)
    # The breaker may still be open for its reset time; then lookups reach the service again.
    eventually(lambda: bid(bidder, "user-001") == (1.20, ""), timeout=10)
    before = hits(bidder)
    assert bid(bidder, "user-001") == (1.20, "")
    assert hits(bidder) == before + 1
